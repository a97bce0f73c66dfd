// The editor's small helpers, all optional: the pages work without them.
// - write page: photos chosen or dropped are uploaded at once with a
//   progress bar (XMLHttpRequest upload events), and a row for caption and
//   credit is added to the form;
// - follow page: the timeline is refreshed from a same-origin JSON every 2 s.
(function () {
  "use strict";

  function uploader(form) {
    var input = document.getElementById("f-files");
    var zone = document.getElementById("dropzone");
    var list = document.getElementById("photo-list");
    var uploads = document.getElementById("uploads");
    var row = document.getElementById("photo-row");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

    function addPhoto(res) {
      var li = row.content.firstElementChild.cloneNode(true);
      li.querySelector("img").src = res.thumb;
      li.querySelector("img").alt = res.name || "";
      li.querySelector("input[name=photo_media]").value = res.id;
      li.querySelector("input[type=checkbox]").name = "photo_remove_" + res.id;
      var body = document.getElementById("f-body");
      if (body && body.value.trim() === "") { li.querySelector("input[name=photo_after]").value = "0"; }
      list.appendChild(li);
      li.querySelector("input[name=photo_caption]").focus();
    }

    function upload(file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", "Đang tải " + file.name);
      var note = document.createElement("span");
      item.append(name, bar, note);
      uploads.appendChild(item);
      if (maxBytes && file.size > maxBytes) {
        bar.remove(); item.className = "failed";
        note.textContent = "quá lớn (tối đa " + Math.round(maxBytes / 1048576) + " MB)";
        return;
      }
      var fd = new FormData();
      fd.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-upload-url"));
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); note.textContent = bar.value + "%"; }
      });
      xhr.addEventListener("load", function () {
        var res = xhr.response || {};
        if (xhr.status === 201 && res.id) {
          item.remove();
          addPhoto(res);
        } else {
          bar.remove(); item.className = "failed";
          note.textContent = res.error || ("lỗi " + xhr.status);
        }
      });
      xhr.addEventListener("error", function () {
        bar.remove(); item.className = "failed"; note.textContent = "mất kết nối, hãy thử lại";
      });
      xhr.send(fd);
    }

    function take(files) {
      Array.prototype.forEach.call(files, upload);
    }
    input.addEventListener("change", function () {
      take(input.files);
      input.value = ""; // already uploaded: not sent again with the form
    });
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files) { take(e.dataTransfer.files); }
    });
  }

  function follower(tl) {
    var url = tl.getAttribute("data-status-url");
    if (tl.getAttribute("data-final") === "1") { return; }
    function paint(s) {
      var status = document.getElementById("status");
      status.textContent = s.status_label;
      status.className = "badge state-" + s.status;
      tl.textContent = "";
      s.steps.forEach(function (st) {
        var li = document.createElement("li");
        li.className = "step " + st.state;
        li.setAttribute("data-key", st.key);
        var label = document.createElement("span");
        label.className = "label";
        label.textContent = st.label;
        li.appendChild(label);
        if (st.at) { var t = document.createElement("time"); t.textContent = st.at; li.append(" ", t); }
        if (st.detail) { var d = document.createElement("span"); d.className = "detail"; d.textContent = st.detail; li.appendChild(d); }
        tl.appendChild(li);
      });
      if (s.public_url) {
        document.getElementById("public-link").href = s.public_url;
        document.getElementById("public").hidden = false;
      }
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s) { paint(s); if (s.final) { return; } }
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 4000); });
    }
    setTimeout(poll, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("article-form");
    if (form && document.getElementById("f-files")) { uploader(form); }
    var tl = document.getElementById("timeline");
    if (tl) { follower(tl); }
  });
})();
