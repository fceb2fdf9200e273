import { defineConfig } from "vite";

export default defineConfig({
  // Tauri serves the built files itself; nothing is fetched from elsewhere.
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { environment: "happy-dom", globals: true },
});
