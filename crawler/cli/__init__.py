"""The `crawler` command line: drives the Scrapy project and queries the database."""
