// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Retrospective form: add a lesson block without a round trip.
  var add = document.getElementById("add-lesson");
  if (add) {
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var blocks = document.querySelectorAll("#lessons fieldset.lesson");
      var copy = blocks[blocks.length - 1].cloneNode(true);
      copy.querySelectorAll("input, textarea").forEach(function (el) { el.value = ""; });
      var legend = copy.querySelector("legend");
      legend.textContent = legend.textContent.replace(/\d+$/, String(blocks.length + 1));
      document.getElementById("lessons").appendChild(copy);
    });
  }
});
