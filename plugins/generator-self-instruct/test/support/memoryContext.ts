/** In-memory stage context for these tests: the shared one from `@refine-af/testing`. */
export {
  memoryEvents,
  memoryInput,
  memoryWriter,
  memoryStageContext as memoryContext,
  type MemoryWriter,
  type RecordedEvent
} from "@refine-af/testing"
