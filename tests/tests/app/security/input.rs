//! Odd and hostile input: redirect targets, control characters, invalid UTF-8, CSV formulas, methods and headers.
