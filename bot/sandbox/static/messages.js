/* A message as Slack draws it (avatar, author, time, "Only visible to you", Block Kit body,
 * "(edited)", files, the replies link) and a list of them kept in step with the state.
 *
 * `people` is {name(id) -> display name, ctx: BlockKit's mention context}. */

export const BOT = "UBOT";
const signatures = new WeakMap();

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function hidden(node) {
  node.setAttribute("aria-hidden", "true");
  return node;
}

function avatar(userId, people) {
  const node = hidden(el("span", userId === BOT ? "avatar avatar-bot" : "avatar",
    people.name(userId).slice(0, 1).toUpperCase()));
  if (userId !== BOT) {
    let hue = 0;
    for (const ch of userId) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
    node.style.backgroundColor = `hsl(${hue}, 45%, 42%)`;
  }
  return node;
}

function meta(m, people) {
  const line = el("div", "msg-meta");
  line.append(el("span", "msg-author", people.name(m.user)));
  if (m.user === BOT) line.append(el("span", "badge", "APP"));
  const when = new Date(Number(m.ts) * 1000);
  if (Number.isFinite(when.getTime())) {
    const time = el("time", "msg-time",
      when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    time.dateTime = when.toISOString();
    time.title = when.toLocaleString();
    line.append(time);
  }
  return line;
}

function content(m, people) {
  const box = el("div", "msg-content");
  if (m.command) {
    box.append(el("span", "command-lead", "You ran "), el("code", "bk-code", m.text));
  } else if (Array.isArray(m.blocks) && m.blocks.length) {
    box.append(BlockKit.renderBlocks(m.blocks, people.ctx));
  } else {
    box.append(BlockKit.renderMrkdwn(m.text || "", people.ctx));
  }
  if (m.edited) box.append(el("span", "edited", "(edited)"));
  return box;
}

function files(m) {
  const list = el("ul", "files");
  list.setAttribute("aria-label", "Files");
  for (const f of m.files) {
    const link = el("a", "file-link", f.title || f.name);
    if (/^(\/(?!\/)|https?:)/i.test(f.url || "")) link.href = f.url; // same origin or web
    link.target = "_blank";
    link.rel = "noopener";
    const item = el("li", "file");
    item.append(hidden(el("span", "file-icon", "📄")), link, el("span", "file-name", f.name));
    list.append(item);
  }
  return list;
}

/* One message; `inChannel` adds the replies link (a thread pane shows the replies). */
export function renderMessage(m, people, inChannel) {
  const item = el("article", "msg");
  item.dataset.ts = m.ts;
  item.dataset.channel = m.channel;
  item.tabIndex = -1;
  item.classList.toggle("msg-ephemeral", Boolean(m.ephemeral));
  item.classList.toggle("msg-command", Boolean(m.command));
  item.setAttribute("aria-label", (m.ephemeral ? "Only visible to you: " : "") +
    (m.command ? "You ran a command" : people.name(m.user)));
  const body = el("div", "msg-body");
  if (m.ephemeral) {
    const note = el("div", "ephemeral-note");
    note.append(hidden(el("span", "eye", "👁")), document.createTextNode(" Only visible to you"));
    body.append(note);
  }
  body.append(meta(m, people), content(m, people));
  if (m.files && m.files.length) body.append(files(m));
  if (inChannel && m.reply_count > 0) {
    const count = `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`;
    const replies = el("button", "replies-link", count);
    replies.type = "button";
    replies.dataset.thread = m.ts;
    replies.setAttribute("aria-label", `${count} in the thread of ${people.name(m.user)}'s ` +
      "message");
    body.append(replies);
  }
  item.append(avatar(m.user, people), body);
  return item;
}

/* Keeps the container's children in step with `messages` (keyed by ts): an unchanged message
   keeps its node, and with it the keyboard focus; a changed one is redrawn in place. Read to
   the end, the list stays at the end, also when the last message grows (its replies link). */
export function reconcile(container, messages, draw, scrollToEnd) {
  const nearEnd = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  const known = new Map();
  for (const child of container.children) {
    if (child.dataset.ts) known.set(child.dataset.ts, child);
  }
  const active = document.activeElement;
  let previous = null;
  let drew = false;
  for (const message of messages) {
    const sig = JSON.stringify(message);
    let node = known.get(message.ts);
    if (!node || signatures.get(node) !== sig) {
      const fresh = draw(message);
      signatures.set(fresh, sig);
      if (node) {
        const hadFocus = node.contains(active);
        node.replaceWith(fresh);
        if (hadFocus) fresh.focus();
      }
      drew = true;
      node = fresh;
    }
    known.delete(message.ts);
    const expected = previous ? previous.nextSibling : container.firstChild;
    if (node !== expected) container.insertBefore(node, expected);
    previous = node;
  }
  for (const stale of known.values()) stale.remove();
  if (scrollToEnd || (drew && nearEnd)) container.scrollTop = container.scrollHeight;
}
