//! CSV as the local SageMaker reads and writes it: RFC 4180 through the `csv` crate, so a
//! quoted field may hold commas, quotes (doubled) and line breaks, and records end with CRLF or
//! LF. No header row: the sample container's contract sends every line to the model.

/// One record: its fields, trimmed, and the line it starts on (1-based), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// The records of `text`, blank lines skipped. Bytes that are not UTF-8 are replaced (the
/// value then fails as a number, with its line named), since the reader never fails on
/// malformed CSV itself: a stray quote is read the way Python's `csv` module reads it.
pub fn records(text: &str) -> Vec<Record> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    // Reading from memory has no I/O to fail; anything else is a record.
    while let Ok(true) = reader.read_byte_record(&mut record) {
        // The reader's own line numbers count a record from the line break that ended the
        // one before it, so the line is counted here from where the record's bytes begin.
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        out.push(Record {
            line: lines.line_at(text.as_bytes(), start),
            fields: record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        });
    }
    out
}

/// Line numbers of byte offsets met in increasing order, counted once through the text. A
/// line ends at LF, CRLF or a lone CR, as a record does.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    breaks: usize,
}

impl LineCounter {
    /// The 1-based line of the first byte at or after `start` that is not a line break.
    fn line_at(&mut self, text: &[u8], start: usize) -> usize {
        let mut at = start.max(self.offset);
        while matches!(text.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        let seen = text.get(self.offset..at).unwrap_or_default();
        for (i, byte) in seen.iter().enumerate() {
            let lone_cr = *byte == b'\r' && seen.get(i + 1).or(text.get(at)) != Some(&b'\n');
            if *byte == b'\n' || lone_cr {
                self.breaks += 1;
            }
        }
        self.offset = self.offset.max(at);
        self.breaks + 1
    }
}

/// `values` as a one-column CSV text, one record per line ended by `\n` (what a batch
/// transform's `AssembleWith: Line` joins), each quoted only when RFC 4180 needs it.
pub fn column(values: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for value in values {
        // Writing into memory cannot fail.
        let _ = writer.write_record([value]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        records(text).into_iter().map(|r| r.fields).collect()
    }

    /// Expected values written by hand from RFC 4180 section 2: rule 6 (a quoted field holds
    /// commas and line breaks), rule 7 (a quote inside is doubled), rule 1 (CRLF ends a record).
    #[test]
    fn quoted_fields_doubled_quotes_and_crlf_read_as_rfc_4180_says() {
        let text =
            "\"Iris, setosa\",5.1,3.5\r\n\"say \"\"hi\"\"\", 1 \r\n\r\n\"two\r\nlines\",2\nlast,3";
        assert_eq!(
            fields(text),
            vec![
                vec!["Iris, setosa", "5.1", "3.5"],
                vec!["say \"hi\"", "1"],
                vec!["two\r\nlines", "2"],
                vec!["last", "3"],
            ]
        );
        let lines: Vec<usize> = records(text).iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 4, 6]);
        assert!(records("").is_empty());
        assert!(records("\r\n\n").is_empty());
    }

    /// RFC 4180 rule 6 and 7 again, written: a value with a comma, a quote or a line break is
    /// enclosed in quotes, quotes inside doubled; anything else is written as it is.
    #[test]
    fn a_column_is_quoted_only_where_needed() {
        let values = ["setosa", "a,b", "say \"hi\"", "two\nlines"].map(String::from);
        assert_eq!(
            column(&values),
            "setosa\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"two\nlines\"\n"
        );
        let read: Vec<String> = records(&column(&values))
            .into_iter()
            .map(|r| r.fields[0].clone())
            .collect();
        assert_eq!(read, values);
        assert_eq!(column(&[]), "");
    }
}
