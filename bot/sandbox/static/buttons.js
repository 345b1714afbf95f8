/* Block Kit buttons, wherever they are drawn: one listener for all of them. A button with a
 * confirm object asks first in a native modal <dialog> (it traps the focus and Escape cancels),
 * Cancel focused, as Slack does; only then is the click sent. */

function askFirst(dialog, confirm, ctx) {
  const part = (id) => dialog.querySelector(`#${id}`);
  part("confirm-title").textContent = BlockKit.plainOf(confirm.title) || "Are you sure?";
  part("confirm-text").replaceChildren(BlockKit.renderText(confirm.text, ctx));
  part("confirm-yes").textContent = BlockKit.plainOf(confirm.confirm) || "Yes";
  part("confirm-deny").textContent = BlockKit.plainOf(confirm.deny) || "Cancel";
  part("confirm-yes").className = "bk-button " +
    (confirm.style === "primary" ? "bk-primary" : "bk-danger");
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"),
      { once: true });
    dialog.showModal();
    part("confirm-deny").focus();
  });
}

/* `send(button)` delivers the click; `ctx()` gives the mention context for dialog texts. */
export function setUpButtons({ root, dialog, ctx, send }) {
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button.bk-button[data-action-id]");
    if (!button || dialog.contains(button)) return;
    if (button.dataset.confirm) {
      let confirm = {};
      try {
        confirm = JSON.parse(button.dataset.confirm);
      } catch {
        // drawn by BlockKit from an object, so always JSON; an empty dialog still asks
      }
      const yes = await askFirst(dialog, confirm, ctx());
      button.focus();
      if (!yes) return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await send(button);
    } finally {
      if (button.isConnected) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
    }
  });
}
