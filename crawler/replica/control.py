"""The HTTP control endpoint's operations: Site mutations for processes that do not hold the Site.

A test or benchmark that runs the replica in another process changes it with
`POST /_replica/control` and a JSON body `{"op": "edit_comment", "args": {"comment_id": "…", "text": "…"}}`;
`apply` maps the op onto the same `Site` method an in-process caller would use, converting what JSON
cannot carry (datetimes as ISO strings, articles as generator arguments).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .generate import generated_article
from .model import Site


class ControlError(Exception):
    """An unknown op or arguments the op rejects; answered with status 400."""


def apply(site: Site, op: str, args: dict[str, Any]) -> Any:
    """Run one operation and return its JSON-serialisable result."""
    if op not in _OPS:
        raise ControlError(f"unknown op {op!r}; known: {sorted(_OPS)}")
    try:
        return _OPS[op](site, **args)
    except (KeyError, ValueError, TypeError) as error:
        raise ControlError(f"{op}: {error}") from error


def _edit_article(site: Site, slug: str, **changes: Any) -> None:
    for name in ("published_at", "modified_at"):
        if isinstance(changes.get(name), str):
            changes[name] = datetime.fromisoformat(changes[name])
    site.edit_article(slug, **changes)


def _add_article(site: Site, slug: str, n_comments: int = 0, **fields: Any) -> dict[str, Any]:
    """Publish a generated article (see generate.generated_article for the arguments)."""
    if isinstance(fields.get("published_at"), str):
        fields["published_at"] = datetime.fromisoformat(fields["published_at"])
    with site.lock:  # so no other request takes the post id between choosing and adding it
        post_id = fields.pop("post_id", None) or site.next_post_id()
        article = site.add_article(generated_article(slug, post_id, n_comments, **fields))
    return {"slug": article.slug, "post_id": article.post_id}


_OPS: dict[str, Callable[..., Any]] = {
    "edit_comment": Site.edit_comment,
    "delete_comment": Site.delete_comment,
    "restore_comment": Site.restore_comment,
    "add_comment": Site.add_comment,
    "set_votes": Site.set_votes,
    "edit_article": _edit_article,
    "add_article": _add_article,
    "set_faults": Site.set_faults,
    "set_hide_fraction": Site.set_hide_fraction,
    "set_api_page_cap": Site.set_api_page_cap,
    "delete_after_page": Site.delete_after_page,
}
