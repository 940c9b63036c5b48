"""Notifications: one digest per run of its change events, sent with Apprise to every target.

`targets` says who gets told (NOTIFY_URLS, $PANDAWATCH_NOTIFY_URLS and the notify_targets table, each
with its filters), `digest` what a run's digest says (a text body, and a JSON body for webhooks),
`send` delivers it with bounded retries and records the outcome on the run row (`runs.notified`).
"""
