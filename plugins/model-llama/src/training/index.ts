/** LoRA supervised fine-tuning on the compute core. */
export * from "./sft-feeds.ts"
export * from "./lora-trainer.ts"
