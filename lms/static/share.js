// The site confirmation link: a "Copy" button, and on phones a "Share" button (Web Share API). Both stay hidden
// where the browser cannot do it; the link itself is always on the page to select by hand.
(function () {
  "use strict";
  var phone = window.matchMedia && window.matchMedia("(pointer: coarse), (max-width: 40em)").matches;

  function statusNear(button) {
    var box = button.closest(".share-link");
    var next = box && box.nextElementSibling;
    return next && next.classList.contains("share-status") ? next : null;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-link]"), function (button) {
    if (!navigator.clipboard || !navigator.clipboard.writeText) { return; }
    var field = document.getElementById(button.getAttribute("data-copy-link"));
    button.hidden = false;
    button.addEventListener("click", function () {
      var status = statusNear(button);
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) { status.textContent = button.getAttribute("data-copied"); }
      }, function () {
        field.select();
        if (status) { status.textContent = button.getAttribute("data-copy-failed"); }
      });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-share]"), function (button) {
    if (!phone || !navigator.share) { return; }
    var field = document.getElementById(button.getAttribute("data-share"));
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({title: button.getAttribute("data-share-title"), url: field.value}).catch(function () {});
    });
  });
}());
