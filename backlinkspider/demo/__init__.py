"""The demo web that ``backlinks demo`` crawls, and the proxy that serves it."""
