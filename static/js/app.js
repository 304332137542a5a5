// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.classList.add("js");
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Ask before a destructive button (the server does the rest).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Ctrl/Cmd+Enter posts from a Markdown box.
  for (const area of document.querySelectorAll("form textarea")) {
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && area.form) area.form.requestSubmit();
    });
  }
  // A link to #post-N of a topic whose post is on another page: ask the server where it is.
  const topic = document.querySelector("[data-locate-url]");
  const wanted = /^#post-(\d+)$/.exec(window.location.hash);
  if (topic && wanted && !document.getElementById(wanted[0].slice(1))) {
    window.location.replace(`${topic.dataset.locateUrl}?post=${wanted[1]}`);
  }
  // A quote lands in the reply box: put the cursor after it.
  const reply = document.querySelector("#reply textarea");
  if (reply && window.location.hash === "#reply" && reply.value) {
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
  }
  // One flag form open at a time; Escape closes it.
  const flaggers = document.querySelectorAll("details.flagger");
  for (const details of flaggers) {
    details.addEventListener("toggle", () => {
      if (!details.open) return;
      for (const other of flaggers) if (other !== details) other.removeAttribute("open");
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") for (const details of flaggers) details.removeAttribute("open");
  });
  // Copy buttons: data-copy names the field whose value goes to the clipboard (hidden without JS).
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.querySelector(button.dataset.copy);
    if (!field) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        document.execCommand("copy");
      }
      const label = button.textContent;
      button.textContent = button.dataset.copied;
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
  // Close the user menu when clicking elsewhere or pressing Escape.
  const menu = document.querySelector("details.usermenu");
  if (menu) {
    document.addEventListener("click", (event) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") menu.removeAttribute("open");
    });
  }
});

// Reading a topic: the page itself writes nothing; it reports how far the reader got, a few seconds after
// they get there and when they leave (as Discourse's timings do). Posts in number order count as they come
// into view; answers sorted by votes count once the last one shown has been seen.
document.addEventListener("DOMContentLoaded", () => {
  const topic = document.querySelector("[data-read-url]");
  if (!topic || !("IntersectionObserver" in window)) return;
  const cap = Number(topic.dataset.readUpTo);
  const inOrder = topic.dataset.readInOrder === "true";
  const posts = [...topic.querySelectorAll("li.post[data-number]")];
  let seen = 0;
  let sent = 0;
  let timer = null;
  const report = (leaving) => {
    clearTimeout(timer);
    if (seen <= sent) return;
    const body = new FormData();
    body.append("csrf_token", topic.dataset.csrf);
    body.append("up_to", String(seen));
    sent = seen;
    if (leaving && navigator.sendBeacon) navigator.sendBeacon(topic.dataset.readUrl, body);
    else fetch(topic.dataset.readUrl, { method: "POST", body, credentials: "same-origin", keepalive: true,
                                         headers: { Accept: "application/json" } });
  };
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      // Half the post in view, or a post taller than the window filling half of it.
      const read = entry.intersectionRatio >= 0.5 || entry.intersectionRect.height >= window.innerHeight / 2;
      if (!entry.isIntersecting || !read) continue;
      const number = inOrder ? Number(entry.target.dataset.number) : cap;
      seen = Math.min(cap, Math.max(seen, number));
      observer.unobserve(entry.target);
    }
    clearTimeout(timer);
    timer = setTimeout(() => report(false), 2000);
  }, { threshold: [0, 0.25, 0.5, 1] });
  for (const post of inOrder ? posts : posts.slice(-1)) observer.observe(post);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") report(true); });
  window.addEventListener("pagehide", () => report(true));
});
