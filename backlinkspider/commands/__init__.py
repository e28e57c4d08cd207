"""Scrapy commands of this project (``COMMANDS_MODULE``): ``crawl``, with an exit status that tells the truth."""
