// Placeholder until the native kernel lands: the portable kernel needs no build step.
console.log('gru-stream: native kernel not part of this version; using the portable kernel');
