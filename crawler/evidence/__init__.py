"""Evidence: every response a run used, kept in a gzip WARC file per run, and the links from what the
store recorded (comments, change events) back to the records that showed it.

`capture` writes the WARC while Scrapy crawls (a downloader middleware on the `response_downloaded`
signal, the browser's XHR answers through a page listener) and stamps each item with the record it came
from (a spider middleware); `records` reads the `evidence` tables and the WARC files back (the
`crawler evidence` command, exports); `retention` prunes old WARC files but keeps every record that
backs a recorded deletion or edit.
"""
