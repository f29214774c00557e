/* Solidaire: the quick exit and the one-entry history, inlined in the <head> of every page
   (its hash is in the Content-Security-Policy, see cms/quick_exit.py) so that they work from
   the first moment, even while the rest of the page is still loading on a slow connection.
   Without JavaScript the quick exit is a plain link. */
(function () {
  "use strict";

  /* Leave at once for an ordinary site. location.replace() takes this page out of the
     history, so Back does not bring it back; the page is blanked first so that nothing
     stays on screen while the other site loads. Signed in, the session ends too: a
     beacon is delivered even though the page is left at once, and without one the link
     itself signs out on its way to the other site (one more round trip). */
  function quickExit(event) {
    event.preventDefault();
    var link = document.querySelector("[data-quick-exit]");
    var signOut = link && link.getAttribute("data-sign-out");
    var away = link ? link.getAttribute("data-quick-exit") || link.href : "about:blank";
    document.documentElement.classList.add("exiting");
    document.title = "";
    if (signOut && !(navigator.sendBeacon && navigator.sendBeacon(signOut))) {
      away = link.href;
    }
    window.location.replace(away);
  }

  /* On the public pages the whole visit takes one entry in the browser history: moving
     between our pages replaces the entry instead of adding one, so after a quick exit
     Back leads to wherever the visitor was before this site, not to one of its pages. */
  function oneEntry() {
    return document.body && document.body.hasAttribute("data-single-history");
  }

  function ours(url) {
    return url.origin === window.location.origin;
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey || !event.target.closest) {
      return;
    }
    var link = event.target.closest("a[href]");
    if (!link) {
      return;
    }
    if (link.hasAttribute("data-quick-exit")) {
      quickExit(event);
      return;
    }
    if (!oneEntry() || link.hasAttribute("data-video-embed") || link.hasAttribute("download") ||
        (link.target && link.target !== "_self")) {
      return;
    }
    var url = new URL(link.href, window.location.href);
    if (!ours(url) ||
        (url.pathname === window.location.pathname && url.search === window.location.search &&
         url.hash)) {
      return; /* another site, or a link within the page */
    }
    event.preventDefault();
    window.location.replace(url.href);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!oneEntry() || (form.method || "get").toLowerCase() !== "get") {
      return;
    }
    var url = new URL(form.action || window.location.href, window.location.href);
    if (!ours(url)) {
      return;
    }
    event.preventDefault();
    url.search = new URLSearchParams(new FormData(form)).toString();
    window.location.replace(url.href);
  });

  /* Escape leaves too, except while choosing in a list or typing into a form that saves
     something (an officer's work would be lost); in the search box it still leaves. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.isComposing) {
      return;
    }
    var target = event.target;
    if (target.closest && (target.closest("select") || target.closest("form[method=post]"))) {
      return;
    }
    if (document.querySelector("[data-quick-exit]")) {
      quickExit(event);
    }
  });
})();
