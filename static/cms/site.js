/* Solidaire public site: videos that load only when asked for. (The quick exit and the
   one-entry history are inlined in every page's <head>: cms/quick_exit.js.) Everything here
   is an enhancement: without JavaScript a video is a plain link. No inline scripts beyond
   that one, which the Content-Security-Policy allows by its hash. */
(function () {
  "use strict";

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

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey || !event.target.closest) {
      return;
    }
    var video = event.target.closest("[data-video-embed]");
    if (video) {
      playVideo(event, video);
    }
  });
})();
