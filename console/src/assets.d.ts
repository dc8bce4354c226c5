// CSS files are bundled by esbuild into the hashed stylesheet.
declare module '*.css';
