"""backlinkspider: a self-hosted backlink crawler built on Scrapy and MongoDB."""

__version__ = "0.1.0"
