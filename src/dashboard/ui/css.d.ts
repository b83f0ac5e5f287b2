// esbuild bundles imported style sheets into app.css; to TypeScript they are side-effect modules.
declare module '*.css';
