"""Site adapters: pure functions from a site's HTML/JSON to items. One adapter per site."""
