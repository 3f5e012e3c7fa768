/** Failures of reading PEFT adapters. */
import { Schema } from "effect"

/** `adapter_config.json` or `adapter_model.safetensors` is not a LoRA adapter this plugin can load; `problems` lists why. */
export class AdapterFormatError extends Schema.TaggedError<AdapterFormatError>()("AdapterFormatError", {
  path: Schema.String,
  problems: Schema.Array(Schema.String),
  message: Schema.String
}) {}
