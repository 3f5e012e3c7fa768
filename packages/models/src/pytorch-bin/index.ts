/** Safe reading of PyTorch `.bin` checkpoints: zip container, restricted unpickler, checked tensor views. */
export * from "./errors.ts"
export * from "./zip.ts"
export * from "./unpickler.ts"
export * from "./reader.ts"
