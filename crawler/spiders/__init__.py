"""Scrapy spiders: they navigate (request pages, follow the adapter's follow-ups); adapters extract."""
