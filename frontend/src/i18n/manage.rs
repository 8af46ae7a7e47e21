//! The manage section's words, English and Japanese. Filled in next.
