/// <reference types="svelte" />
/// <reference types="vite/client" />

// docs/guide.md, built in by vite.config.ts.
declare module "virtual:user-guide" {
  const text: string;
  export default text;
}
