"""Scrapy extensions of Panda Watch (enabled in crawler/settings.py, EXTENSIONS)."""
