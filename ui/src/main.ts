import { App } from "./app";

new App().init().catch((e) => {
  const n = document.getElementById("notice");
  if (n) {
    n.textContent = `FaceCloak could not start: ${e}`;
    n.hidden = false;
  }
});
