/* The message box: it takes the bot's slash commands, shows the usage of the one being typed,
 * and says under the box why a line was not sent (the text stays, to be fixed). */

import { el } from "./messages.js";

const COMMANDS = [
  ["/promote", "/promote <model> <version> [because <reason>]"],
  ["/rollback", "/rollback <model> [to <version>] [because <symptom>]"],
  ["/registry", "/registry versions|show|history|diff|gc|help ..."],
  ["/audit", "/audit <request-id>"],
  ["/investigate", "/investigate <model> [since <time>]"],
  ["/experiment", "/experiment <model> <name> from <version> [prompt \"<text>\"] " +
    "[config key=value ...] [because <reason>]"],
  ["/rehearse", "/rehearse <model>"],
];

function usageOf(text) {
  const typed = text.trim().split(/\s+/)[0] || "";
  if (!typed.startsWith("/")) return "";
  const matches = COMMANDS.filter(([name]) => name.startsWith(typed) || typed.startsWith(name));
  if (matches.length === 1) return `Usage: ${matches[0][1]}`;
  return matches.length ? `Commands: ${matches.map(([name]) => name).join(", ")}` : "";
}

/* `send(text)` resolves when the sandbox took the command and throws its refusal. */
export function setUpComposer({ form, input, hint, error, hints, send }) {
  const update = () => { hint.textContent = usageOf(input.value); };
  hints.append(el("span", "hints-lead", "Commands:"));
  for (const [name, usage] of COMMANDS) {
    const button = el("button", "hint", name);
    button.type = "button";
    button.title = usage;
    button.setAttribute("aria-label", `Insert ${name}: ${usage}`);
    button.addEventListener("click", () => {
      input.value = `${name} `;
      input.focus();
      update();
    });
    hints.append(button);
  }
  input.addEventListener("input", update);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || input.getAttribute("aria-busy")) return; // Enter again while it is sent
    error.textContent = "";
    if (!text.startsWith("/")) {
      error.textContent = "The sandbox bot only answers slash commands: type one of the " +
        "commands below, e.g. /registry help.";
      return;
    }
    input.setAttribute("aria-busy", "true");
    try {
      await send(text);
      input.value = "";
      update();
    } catch (failure) {
      error.textContent = `Not sent: ${failure.message}`;
    } finally {
      input.removeAttribute("aria-busy");
    }
  });
}
