"""The browser path: Chromium driven through scrapy-playwright for comments that need clicks.

`setup` finds a browser and builds scrapy-playwright's settings; `expand` clicks a page's
"Load More …" buttons until the whole thread is in the DOM. Neither knows any site: what to click
comes from the site adapter or profile as a `ClickPlan`.
"""
