import { defineConfig } from "vite";

const sdk = new URL("../../typescript/", import.meta.url).pathname;

export default defineConfig({
  server: {
    host: "127.0.0.1",
    port: Number(process.env.MINIME_WEB_PORT ?? 5173),
    strictPort: true,
    // The SDK is used from source, next door.
    fs: { allow: [".", sdk] },
  },
  resolve: { alias: { "@minime/sdk": `${sdk}src/index.ts` } },
});
