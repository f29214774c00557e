/* Solidaire public site: the quick exit, and videos that load only when asked for.
   Everything here is an enhancement: without JavaScript the quick exit and the videos
   are plain links. No inline scripts (Content-Security-Policy script-src 'self'). */
(function () {
  "use strict";

  var exitLink = null;

  /* Leave at once for an ordinary site. location.replace() takes this page out of the
     history, so Back does not bring it back; the page is blanked first so that nothing
     stays on screen while the other site loads. */
  function quickExit(event) {
    if (event) {
      event.preventDefault();
    }
    var target = exitLink ? exitLink.href : "about:blank";
    document.documentElement.classList.add("exiting");
    document.title = "";
    window.location.replace(target);
  }

  /* On the public pages the whole visit takes one entry in the browser history: moving
     between our pages replaces the entry instead of adding one, so after a quick exit
     Back leads to wherever the visitor was before this site, not to one of its pages. */
  function sameSite(url) {
    return url.origin === window.location.origin;
  }

  function onClick(event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) {
      return;
    }
    var video = event.target.closest("[data-video-embed]");
    if (video) {
      playVideo(event, video);
      return;
    }
    if (!document.body.hasAttribute("data-single-history")) {
      return;
    }
    var link = event.target.closest("a[href]");
    if (!link || link.hasAttribute("download") || (link.target && link.target !== "_self")) {
      return;
    }
    var url = new URL(link.href, window.location.href);
    if (!sameSite(url) || link.hasAttribute("data-quick-exit")) {
      return;
    }
    if (url.pathname === window.location.pathname && url.search === window.location.search &&
        url.hash) {
      return; /* a link within the page */
    }
    event.preventDefault();
    window.location.replace(url.href);
  }

  function onSubmit(event) {
    var form = event.target;
    if (!document.body.hasAttribute("data-single-history") ||
        (form.method || "get").toLowerCase() !== "get") {
      return;
    }
    var url = new URL(form.action || window.location.href, window.location.href);
    if (!sameSite(url)) {
      return;
    }
    event.preventDefault();
    url.search = new URLSearchParams(new FormData(form)).toString();
    window.location.replace(url.href);
  }

  /* Click-to-play: the page holds a link to the video site; the player (an iframe from the
     privacy-enhanced host) is created only now, after the visitor chose to play. */
  function playVideo(event, link) {
    var src = link.getAttribute("data-video-embed");
    if (!src) {
      return;
    }
    event.preventDefault();
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = link.getAttribute("data-video-title") || "";
    frame.setAttribute("allow", "autoplay; encrypted-media; fullscreen; picture-in-picture");
    frame.setAttribute("allowfullscreen", "");
    /* Players refuse to start without knowing which site embeds them: send the origin only. */
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.className = "video-frame";
    link.parentNode.replaceChild(frame, link);
    frame.focus();
  }

  /* Escape leaves too, except while choosing in a list or typing into a form that saves
     something (an officer's work would be lost); in the search box it still leaves. */
  function onKey(event) {
    if (event.key !== "Escape" || event.isComposing) {
      return;
    }
    var target = event.target;
    if (target.closest && (target.closest("select") || target.closest("form[method=post]"))) {
      return;
    }
    quickExit(event);
  }

  function start() {
    exitLink = document.querySelector("[data-quick-exit]");
    if (exitLink) {
      exitLink.addEventListener("click", quickExit);
      document.addEventListener("keydown", onKey);
    }
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
