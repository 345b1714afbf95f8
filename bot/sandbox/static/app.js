/* The sandbox workspace page: who you act as, where you are (a channel, or the Playbook app
 * with its Home and Messages tabs), and the state the sandbox serves for that person.
 *
 * The page keeps no workspace state of its own: every change comes back from the server
 * (live by server-sent events, polling when the stream is down), so what is drawn is what the
 * bot did. Only what changed is redrawn, so an update never takes the keyboard focus away.
 */

import { defaultUser, getState, post, watch } from "./api.js";
import { setUpButtons } from "./buttons.js";
import { setUpComposer } from "./composer.js";
import { setUpDrawer } from "./drawer.js";
import { BOT, el, reconcile, renderMessage } from "./messages.js";

const $ = (id) => document.getElementById(id);
const USER_KEY = "playbook-sandbox-user";
const view = { user: null, target: null, tab: "home", thread: null };
const drawn = new WeakMap(); // element -> the JSON it was last drawn from
let state = null;
let fetching = null;
let again = false;

// ---- state ----------------------------------------------------------------------------------

/* One fetch at a time; a change announced meanwhile triggers one more. */
function refresh() {
  if (fetching) {
    again = true;
    return fetching;
  }
  fetching = getState(view.user)
    .then((next) => {
      if (next.me !== view.user) return; // asked before a switch; the next fetch follows
      if (!state || next.version !== state.version || next.me !== state.me) {
        state = next;
        render();
      }
    })
    .catch((error) => notify(`Could not load the workspace: ${error.message}`, true))
    .finally(() => {
      fetching = null;
      if (again) {
        again = false;
        refresh();
      }
    });
  return fetching;
}

const people = {
  name(id) {
    if (id === BOT) return "Playbook";
    return state.users.find((u) => u.id === id)?.name ?? id;
  },
  get ctx() {
    const users = Object.fromEntries(state.users.map((u) => [u.id, u.name]));
    const channels = Object.fromEntries(state.channels.map((c) => [c.id, c.name]));
    return { users: { ...users, [BOT]: "Playbook" }, channels };
  },
};

const channelById = (id) => state.channels.find((c) => c.id === id) || null;
const dmChannel = () => state.channels.find((c) => c.is_dm) || null;
const shownChannel = () => (view.target === "app" ? dmChannel() : channelById(view.target));

function notify(text, isError) {
  const notice = $("notice");
  notice.textContent = text;
  notice.classList.toggle("toast-error", Boolean(isError));
  notice.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { notice.hidden = true; }, isError ? 8000 : 3000);
}

function remember() {
  const params = new URLSearchParams({ user: view.user, channel: view.target });
  if (view.target === "app") params.set("tab", view.tab);
  history.replaceState(null, "", `${location.pathname}?${params}`);
  try {
    localStorage.setItem(USER_KEY, view.user);
  } catch {
    // storage may be off; the URL keeps it
  }
}

// ---- drawing --------------------------------------------------------------------------------

function render() {
  if (view.target !== "app" && !channelById(view.target)) {
    view.target = state.channels.find((c) => !c.is_dm)?.id ?? "app";
  }
  document.title = `${state.workspace} · Playbook sandbox`;
  $("workspace-name").textContent = state.workspace;
  renderSwitcher();
  renderSidebar();
  renderPane();
  renderThread();
  remember();
}

function changed(node, value) {
  const sig = JSON.stringify(value);
  if (drawn.get(node) === sig) return false;
  drawn.set(node, sig);
  return true;
}

function renderSwitcher() {
  const select = $("user-select");
  if (changed(select, state.users)) {
    select.replaceChildren(...state.users.map((u) => {
      const option = el("option", null, u.role ? `${u.name} (${u.role})` : u.name);
      option.value = u.id;
      return option;
    }));
  }
  select.value = state.me;
}

/* Rebuilt only when the channels change, so a live update never takes the focus away. */
function renderSidebar() {
  const list = $("channel-list");
  const channels = state.channels.filter((c) => !c.is_dm);
  if (changed(list, [state.me, channels])) {
    const focused = list.contains(document.activeElement)
      ? document.activeElement.dataset.target : null;
    list.replaceChildren(...channels.map((c) => {
      const button = el("button", "nav-item");
      button.type = "button";
      button.dataset.target = c.id;
      button.append(el("span", "nav-icon", "#"), document.createTextNode(c.name));
      button.firstChild.setAttribute("aria-hidden", "true");
      if (!c.members.includes(state.me)) {
        button.classList.add("nav-not-member");
        button.title = "You are not a member of this channel";
      }
      const item = el("li");
      item.append(button);
      return item;
    }));
    if (focused) list.querySelector(`[data-target="${CSS.escape(focused)}"]`)?.focus();
  }
  for (const button of document.querySelectorAll(".sidebar .nav-item")) {
    if (button.dataset.target === view.target) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
}

function renderHeader(isApp, channel) {
  const title = $("pane-title");
  const members = $("pane-members");
  if (isApp) {
    title.replaceChildren(document.createTextNode("Playbook"), el("span", "badge", "APP"));
    $("pane-purpose").textContent = "The bot's App Home and your direct messages with it.";
    members.textContent = "";
  } else {
    title.textContent = `#${channel.name}`;
    $("pane-purpose").textContent = channel.purpose || "";
    const names = channel.members.filter((m) => m !== BOT).map((m) => people.name(m));
    members.textContent = `${names.length} member${names.length === 1 ? "" : "s"}`;
    members.title = names.join(", ");
  }
  const outsider = $("outsider-note");
  outsider.hidden = isApp || channel.members.includes(state.me);
  if (!outsider.hidden) {
    // As in Slack: no message box before you join; buttons on its cards still reach the bot.
    const members = channel.members.filter((m) => m !== BOT).map((m) => people.name(m));
    outsider.textContent = `You (${people.name(state.me)}) are not a member of ` +
      `#${channel.name}, so you cannot type here. You can still click the buttons on its ` +
      "cards, and the bot decides what you may do. To run a command here, switch to a " +
      `member (${members.join(", ")}) with \u201cActing as\u201d.`;
    $("composer-form").hidden = true;
  }
  const where = isApp ? "Playbook" : `#${channel.name}`;
  $("composer-label").textContent = `Message ${where}`;
  $("composer").placeholder = `Message ${where}: a slash command, e.g. /registry help`;
}

function renderPane() {
  const isApp = view.target === "app";
  const showHome = isApp && view.tab === "home";
  const channel = shownChannel();
  for (const [id, selected] of [["tab-home", showHome], ["tab-messages", !showHome]]) {
    $(id).setAttribute("aria-selected", String(selected));
    $(id).tabIndex = selected ? 0 : -1;
  }
  $("app-tabs").hidden = !isApp;
  $("home-view").hidden = !showHome;
  $("messages").hidden = showHome;
  $("composer-form").hidden = showHome || !channel;
  renderHeader(isApp, channel);
  const member = isApp || (channel && channel.members.includes(state.me));
  renderTips(showHome || !channel || !member ? [] : (state.tips || {})[channel.id] || []);
  if (showHome) renderHome();
  else if (channel) renderChannel(channel, isApp ? "Playbook" : `#${channel.name}`);
}

/* Lines worth trying in this channel (the seeded versions to promote, the model to roll
   back): a click puts one in the box, to read and send. */
function renderTips(lines) {
  const box = $("channel-tips");
  if (!changed(box, [lines])) return;
  box.hidden = !lines.length;
  box.replaceChildren(el("span", "hints-lead", "Try here:"));
  for (const line of lines) {
    const button = el("button", "hint", line);
    button.type = "button";
    button.setAttribute("aria-label", `Put "${line}" in the message box`);
    button.addEventListener("click", () => {
      $("composer").value = line;
      $("composer").focus();
      $("composer").dispatchEvent(new Event("input"));
    });
    box.append(button);
  }
}

function renderChannel(channel, where) {
  const box = $("messages");
  const messages = state.messages.filter((m) => m.channel === channel.id &&
    (!m.thread_ts || m.thread_ts === m.ts));
  box.setAttribute("aria-label", `Messages in ${where}`);
  const switched = box.dataset.channel !== channel.id;
  if (switched) {
    box.replaceChildren();
    box.dataset.channel = channel.id;
  }
  box.querySelector(":scope > .empty")?.remove();
  reconcile(box, messages, (m) => renderMessage(m, people, true), switched);
  if (!messages.length) {
    box.append(el("p", "empty", channel.is_dm
      ? "No messages from Playbook yet: buttons in the App Home answer here."
      : `This is the very beginning of #${channel.name}. ` +
        (((state.tips || {})[channel.id] || []).length
          ? "Pick a line under \u201cTry here\u201d below to start, or type /registry help " +
            "for every command."
          : "Type /registry help for every command, or /registry versions <model> to pick " +
            "a version to /promote.")));
  }
}

function renderHome() {
  const home = $("home-view");
  if (!changed(home, [state.home, people.ctx])) return;
  const hadFocus = home.contains(document.activeElement);
  home.replaceChildren(state.home ? BlockKit.renderBlocks(state.home.blocks || [], people.ctx)
    : el("p", "empty", "Opening the App Home…"));
  if (hadFocus) home.focus();
}

function renderThread() {
  const pane = $("thread-pane");
  const parent = view.thread && state.messages.find((m) => m.ts === view.thread);
  pane.hidden = !parent;
  if (!parent) {
    view.thread = null;
    return;
  }
  const channel = channelById(parent.channel);
  $("thread-channel").textContent = channel && !channel.is_dm ? `#${channel.name}` : "";
  const replies = state.messages.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
  const box = $("thread-messages");
  const opened = box.dataset.parent !== parent.ts;
  if (opened) {
    box.replaceChildren();
    box.dataset.parent = parent.ts;
  }
  const count = `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`;
  reconcile(box, [parent, ...replies], (m) => {
    const node = renderMessage(m, people, false);
    if (m.ts === parent.ts) node.classList.add("thread-parent");
    return node;
  }, opened);
  box.setAttribute("aria-label", `Thread: ${count}`);
  const top = box.querySelector(".thread-parent");
  if (top) top.dataset.replies = count;
}

// ---- doing ----------------------------------------------------------------------------------

async function openHome() {
  try {
    await post("/sandbox/home", { user: view.user });
  } catch (error) {
    notify(`The App Home did not open: ${error.message}`, true);
  }
  refresh();
}

function go(target, tab) {
  view.target = target;
  view.tab = tab ?? view.tab;
  view.thread = null;
  if (state) render();
  if (target === "app" && view.tab === "home") openHome();
}

async function clickSent(button) {
  const message = button.closest("[data-ts]");
  const inHome = !message && Boolean(button.closest("#home-view"));
  try {
    await post("/sandbox/action", {
      user: view.user,
      channel: inHome ? null : message.dataset.channel,
      message_ts: inHome ? null : message.dataset.ts,
      action_id: button.dataset.actionId,
      block_id: button.dataset.blockId,
      value: button.dataset.value,
    });
  } catch (error) {
    notify(`The click did not reach the bot: ${error.message}`, true);
  }
  refresh();
}

async function commandSent(text) {
  try {
    await post("/sandbox/command", { user: view.user, channel: shownChannel().id, text });
  } finally {
    await refresh();
  }
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function wire() {
  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.classList.contains("nav-item")) {
      go(target.dataset.target);
    } else if (target.dataset.thread) {
      view.thread = target.dataset.thread;
      render();
      $("thread-close").focus();
    } else if (target.id === "thread-close") {
      const opener = document.querySelector(`[data-thread="${CSS.escape(view.thread)}"]`);
      view.thread = null;
      render();
      opener?.focus();
    } else if (target.id === "tab-home" || target.id === "tab-messages") {
      go("app", target.id === "tab-home" ? "home" : "messages");
      target.focus();
    }
  });
  $("app-tabs").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    event.preventDefault();
    go("app", view.tab === "home" ? "messages" : "home");
    $(view.tab === "home" ? "tab-home" : "tab-messages").focus();
  });
  $("thread-pane").addEventListener("keydown", (event) => {
    if (event.key === "Escape") $("thread-close").click();
  });
  $("user-select").addEventListener("change", async (event) => {
    view.user = event.target.value;
    await refresh();
    const me = state.users.find((u) => u.id === view.user);
    if (me) notify(`Now acting as ${me.name} (${me.role}).`, false);
    if (view.target === "app" && view.tab === "home") openHome();
  });
  setUpButtons({ root: document, dialog: $("confirm-dialog"), ctx: () => people.ctx,
    send: clickSent });
  setUpComposer({ form: $("composer-form"), input: $("composer"), hint: $("composer-hint"),
    error: $("composer-error"), hints: $("command-hints"), send: commandSent });
  setUpDrawer({ app: document.querySelector(".app"), toggle: $("drawer-toggle"),
    drawer: $("sidebar"), scrim: $("drawer-scrim"), heading: $("pane-title") });
}

async function start() {
  const params = new URLSearchParams(location.search);
  let stored = null;
  try {
    stored = localStorage.getItem(USER_KEY);
  } catch {
    stored = null;
  }
  view.user = params.get("user") || stored || await defaultUser().catch(() => null);
  view.target = params.get("channel");
  view.tab = params.get("tab") === "messages" ? "messages" : "home";
  wire();
  await refresh();
  if (!state) {
    // A remembered user this sandbox does not know (another config): start as its default.
    view.user = await defaultUser().catch(() => null);
    await refresh();
  }
  if (state && view.target === "app" && view.tab === "home") openHome();
  watch((version) => {
    if (!state || version === null || version !== state.version) refresh();
  });
}

start();
