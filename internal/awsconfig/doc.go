// Package awsconfig reads the AWS shared config and credentials files
// (~/.aws/config and ~/.aws/credentials) the way botocore, the library
// under the AWS CLI, reads them, and keeps the file and line of every value
// so that errors can point at them.
//
// botocore parses each file with Python's configparser.RawConfigParser and
// then post-processes it; Parse reproduces both steps:
//
//   - Lines end at "\n", "\r\n" or "\r". Full-line comments start with "#"
//     or ";" after optional whitespace; inline comments are part of the
//     value. Whitespace is Python's (str.isspace).
//   - A section header runs from "[" to the last "]" of the line. A key
//     ends at the first "=" or ":"; keys are lower-cased, keys and values
//     trimmed, quotes kept.
//   - A line indented deeper than the key line above it continues that
//     key's value ("\n"-joined). An empty value followed by indented
//     "k = v" lines is a nested block (s3 =, services sections); each of its
//     lines must contain "=".
//   - The keys of a [DEFAULT] section are inherited by every other section
//     of the same file; [DEFAULT] is not a section of its own.
//   - A line without a separator, a key before the first header, a
//     duplicate section or a duplicate key in one section, a nested line
//     without "=" and invalid UTF-8 are errors (*ParseError), as botocore
//     raises ConfigParseError for them.
//
// Load then merges the files like botocore's session.full_config (see
// ProfileName for which sections are profiles): a config-file section
// replaces an earlier one of the same profile, and a credentials-file
// profile is merged over the config-file one key by key.
//
// Deliberate differences from botocore: a UTF-8 byte order mark at the
// start of a file is accepted (botocore rejects the file); a "[profile
// NAME]" section in the credentials file is ignored, as the Go SDK does
// (botocore keeps it as a profile named "profile NAME"); a path that exists
// but cannot be read (a directory, no permission) is an error (botocore and
// the Go SDK treat it as missing); and nested blocks are kept as their text
// rather than parsed into a map.
package awsconfig
