//! What a body is, read from its bytes rather than from what was asked for: the MIME
//! type and usual extension (the `infer` crate's signatures) and, for images, the
//! dimensions (`imagesize`, which reads only the header).

use std::io::{self, Read, Seek, SeekFrom};

/// How many leading bytes are read to recognise a file: enough for every signature
/// `infer` knows and for a JPEG's size marker after a typical EXIF block.
pub const HEAD_BYTES: usize = 64 * 1024;

/// A recognised type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub mime: &'static str,
    /// Without the dot; `jpg` for JPEG.
    pub extension: &'static str,
}

/// The type of `bytes` (the start of a body is enough), or `None` when unknown.
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    infer::get(bytes).map(|found| Kind {
        mime: found.mime_type(),
        extension: found.extension(),
    })
}

/// Width and height of the image `bytes` starts with, when its header says.
pub fn dimensions(bytes: &[u8]) -> Option<(usize, usize)> {
    imagesize::blob_size(bytes)
        .ok()
        .map(|size| (size.width, size.height))
}

/// The first [`HEAD_BYTES`] of a file, read from its start; the position is left at
/// the end of what was read.
pub fn head_of(file: &mut (impl Read + Seek)) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 PNG: signature, then an IHDR chunk (CRC not checked by readers of the size).
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn images_are_known_by_their_bytes() {
        let png = png(3, 2);
        assert_eq!(
            kind(&png),
            Some(Kind {
                mime: "image/png",
                extension: "png"
            })
        );
        assert_eq!(dimensions(&png), Some((3, 2)));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(kind(&jpeg).map(|k| k.extension), Some("jpg"));
        let webp = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\x01\x40\x00\x00";
        assert_eq!(kind(webp).map(|k| k.mime), Some("image/webp"));
        assert_eq!(
            kind(b"ID3\x04\0\0\0\0\0\0").map(|k| k.extension),
            Some("mp3")
        );
    }

    #[test]
    fn unknown_or_cut_bytes_are_none_not_a_panic() {
        assert_eq!(kind(b""), None);
        assert_eq!(kind(b"hello, world"), None);
        assert_eq!(dimensions(b"\x89PNG\r\n"), None);
        assert_eq!(dimensions(b""), None);
    }

    #[test]
    fn the_head_of_a_file_is_read_from_its_start() {
        let mut file = io::Cursor::new(vec![7u8; HEAD_BYTES + 10]);
        file.seek(SeekFrom::End(0)).expect("seek");
        assert_eq!(head_of(&mut file).expect("head").len(), HEAD_BYTES);
    }
}
