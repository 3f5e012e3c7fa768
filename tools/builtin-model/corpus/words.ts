/**
 * Small word lists (our own) that the procedural task families draw from:
 * enough variety that instructions and inputs rarely repeat.
 */

export const NOUNS = [
  "cat", "river", "teacher", "window", "garden", "lamp", "train", "doctor", "apple", "bridge", "cloud", "farmer",
  "pencil", "forest", "kitchen", "rocket", "violin", "island", "market", "letter", "mountain", "baker", "ticket", "candle",
  "horse", "museum", "painter", "engine", "jacket", "planet", "storm", "library", "pilot", "tomato", "village", "sailor"
]
export const VERBS = [
  "found", "painted", "carried", "watched", "opened", "cleaned", "visited", "fixed", "followed", "moved", "sold", "built",
  "borrowed", "described", "closed", "chased", "counted", "wrapped", "lifted", "ordered"
]
export const ADJECTIVES = [
  "quiet", "bright", "old", "tiny", "heavy", "green", "friendly", "cold", "busy", "empty", "famous", "gentle",
  "broken", "narrow", "warm", "strange", "clean", "loud", "rare", "simple"
]
export const NAMES = ["Maria", "Tom", "Aisha", "Ken", "Lena", "Omar", "Sofia", "Ravi", "Nora", "Paul", "Mei", "Jonas"]
export const FRUITS = ["apple", "banana", "cherry", "mango", "pear", "plum", "grape", "lemon", "peach", "kiwi", "orange", "melon"]
export const VEGETABLES = ["carrot", "potato", "onion", "spinach", "pepper", "cabbage", "leek", "pea", "radish", "celery", "turnip", "garlic"]
export const MAMMALS = ["dog", "whale", "horse", "rabbit", "bat", "lion", "goat", "mouse", "bear", "fox"]
export const BIRDS = ["eagle", "sparrow", "owl", "penguin", "parrot", "crow", "swan", "robin", "duck", "hawk"]
export const FISH = ["salmon", "trout", "tuna", "cod", "shark", "carp", "herring", "perch", "eel", "pike"]
export const POSITIVE_WORDS = ["great", "lovely", "excellent", "friendly", "delicious", "fast", "comfortable", "wonderful", "helpful", "fresh"]
export const NEGATIVE_WORDS = ["awful", "rude", "slow", "dirty", "boring", "broken", "cold", "terrible", "noisy", "stale"]
export const PLACES = ["hotel", "cafe", "bakery", "cinema", "shop", "restaurant", "hostel", "gym", "bookstore", "train ride"]
export const TOPICS = [
  "the ocean", "a rainy day", "friendship", "a busy city", "autumn", "a lost key", "the moon", "an old bridge", "a first job",
  "a small garden", "winter mornings", "a long journey", "a school trip", "a quiet library", "a summer storm"
]
export const SUBJECTS = ["history", "science", "music", "cooking", "sports", "travel", "money", "health", "art", "nature", "games", "weather"]
