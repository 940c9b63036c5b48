"""Learned comment APIs ("recipes"): what a site's comment widget requests, learned once in a browser.

`induce` (pure) turns the exchanges the browser path recorded into a recipe; `execute` (pure) turns a
recipe into plain HTTP requests and reads their answers into comments; `learn` glues both to the site
readers; `store` keeps recipes in the `site_apis` table. The spider side is crawler/spiders/recipes.py.
"""
