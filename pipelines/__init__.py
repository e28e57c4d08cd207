"""Item pipelines: normalize (domains), classify (link types, scope), mongo (storage)."""
