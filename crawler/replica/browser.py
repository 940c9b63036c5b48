"""The inline script every replica page carries: what a reader's browser does with the comment buttons.

It is the browser half of the replica contract, written in plain DOM JavaScript so that a headless
browser crawling the replica exercises the same clicks a reader makes: "Load More Comments" appends the
next page, "Load More Replies..." inserts the next replies of one comment, "Read more" swaps a cut text
for the full one, and a lazy comment block loads its first page when it scrolls into view.
"""

BROWSER_SCRIPT = """
(function () {
  "use strict";
  // a page whose comment API moved says where (crawler/replica/ajax.py, script_config)
  var CONFIG = window.__REPLICA_AJAX__ || {};
  var AJAX_URL = CONFIG.url || "/blog/wp-admin/admin-ajax.php";
  var PAGE_PARAM = CONFIG.page || "page";

  function post(fields) {
    if (CONFIG.nonce) { fields.nonce = CONFIG.nonce; }
    return fetch(AJAX_URL, {
      method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: new URLSearchParams(fields).toString()
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      if (!answer.success) { throw new Error(answer.data.message); }
      return answer.data;
    });
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function report(error) { console.warn("replica comments:", error); }

  // Appends one page of top-level comments to a comment block, then keeps its button in step.
  function loadCommentsPage(block, page) {
    var fields = {action: "load_comments", post_id: block.dataset.postId};
    fields[PAGE_PARAM] = String(page);
    return post(fields)
      .then(function (data) {
        var button = block.querySelector(":scope > button.load-more-comments");
        block.dataset.loadedPage = String(page);
        block.insertBefore(fragment(data.html), button);
        if (data.has_more && !button) {
          button = document.createElement("button");
          button.className = "load-more-comments";
          button.textContent = "Load More Comments";
          block.appendChild(button);
        } else if (!data.has_more && button) {
          button.remove();
        }
      });
  }

  function onMoreComments(button) {
    var block = button.closest(".post-comments");
    button.disabled = true;
    loadCommentsPage(block, Number(block.dataset.loadedPage || "1") + 1)
      .catch(report)
      .finally(function () { button.disabled = false; });
  }

  function onMoreReplies(button) {
    var offset = Number(button.dataset.offset);
    button.disabled = true;
    post({action: "load_replies", comment_id: button.dataset.commentId, offset: String(offset)})
      .then(function (data) {
        var replies = fragment(data.html);
        var added = replies.children.length;
        button.parentNode.insertBefore(replies, button);
        if (data.has_more) { button.dataset.offset = String(offset + added); } else { button.remove(); }
      })
      .catch(report)
      .finally(function () { button.disabled = false; });
  }

  function onReadMore(link) {
    var shown = link.closest(".comment-text");
    post({action: "load_comment", comment_id: link.dataset.commentId})
      .then(function (data) {
        var full = fragment(data.html).querySelector(".comment-text");
        if (full) { shown.replaceWith(full); }
      })
      .catch(report);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest(
      "button.load-more-comments, button.load-more-replies, a.read-more");
    if (!target) { return; }
    event.preventDefault();
    if (target.matches("button.load-more-comments")) { onMoreComments(target); }
    else if (target.matches("button.load-more-replies")) { onMoreReplies(target); }
    else { onReadMore(target); }
  });

  // A lazy block starts empty and loads page 1 the first time it comes into view.
  function watchLazyBlock(block) {
    var started = false;
    function start() {
      if (started) { return; }
      started = true;
      loadCommentsPage(block, 1).catch(report);
    }
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          observer.disconnect();
          start();
        }
      });
      observer.observe(block);
    } else {
      var onScroll = function () {
        if (block.getBoundingClientRect().top < window.innerHeight) {
          window.removeEventListener("scroll", onScroll);
          start();
        }
      };
      window.addEventListener("scroll", onScroll);
      onScroll();
    }
  }

  // Any block that holds no comment yet (with or without data-lazy) is filled when it comes into view.
  document.querySelectorAll('.post-comments').forEach(function (block) {
    if (!block.querySelector('.comment') && block.getAttribute('data-comments-count') !== '0') {
      watchLazyBlock(block);
    }
  });
})();
"""
