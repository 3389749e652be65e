// SVG files are imported as their text (the builder's webpack config loads them so).
declare module '*.svg' {
  const text: string;
  export default text;
}
