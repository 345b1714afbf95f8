/* The channel sidebar as a drawer on narrow screens, the way Slack's mobile client does it: a
 * menu button in the top bar opens it over the messages, and picking a channel, Escape, a tap
 * beside it or tabbing out of it closes it. On wide screens the sidebar is always there and the
 * button is not shown (style.css decides, with the same width as NARROW below).
 *
 * The button carries the state (aria-expanded); the page's `data-drawer` follows it for CSS.
 * Opening moves the focus into the drawer (the current channel); Escape gives it back to the
 * button; picking a channel moves it to the heading of what was picked. */

const NARROW = "(max-width: 720px)";

export function setUpDrawer({ app, toggle, drawer, scrim, heading }) {
  const narrow = window.matchMedia(NARROW);
  const isOpen = () => toggle.getAttribute("aria-expanded") === "true";

  function set(open) {
    toggle.setAttribute("aria-expanded", String(open));
    app.dataset.drawer = open ? "open" : "closed";
    scrim.hidden = !open;
  }

  function open() {
    set(true);
    const current = drawer.querySelector('.nav-item[aria-current="page"]') ||
      drawer.querySelector(".nav-item");
    current?.focus();
  }

  function close(focusTo) {
    if (!isOpen()) return;
    set(false);
    focusTo?.focus();
  }

  set(false);
  toggle.addEventListener("click", () => (isOpen() ? close(toggle) : open()));
  scrim.addEventListener("click", () => close(toggle));
  drawer.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close(toggle);
    }
  });
  // Runs before the page's own click listener (on the document), which then opens the target.
  drawer.addEventListener("click", (event) => {
    if (isOpen() && event.target.closest(".nav-item")) close(heading);
  });
  drawer.addEventListener("focusout", (event) => {
    const next = event.relatedTarget;
    if (isOpen() && next && !drawer.contains(next) && next !== toggle) close(null);
  });
  // Widened past the drawer's width: the sidebar is back in place, nothing left open.
  narrow.addEventListener("change", () => {
    if (!narrow.matches) close(null);
  });
}
