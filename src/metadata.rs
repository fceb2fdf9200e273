//! EXIF handling for outputs: orientation reset (pixels are written upright) and location removed.

/// GPSInfo IFD pointer tag.
const GPS_POINTER: u16 = 0x8825;

/// Prepares an EXIF block to travel with a cloaked photo: orientation set to "normal" and the GPS
/// block emptied (every GPS entry and value zeroed). Returns `None` if the block cannot be parsed,
/// in which case it must be dropped rather than risk leaking what it holds.
pub fn sanitise_exif(exif: &[u8]) -> Option<Vec<u8>> {
    let mut out = exif.to_vec();
    let tiff = Tiff::new(&out)?;
    let ifd0 = tiff.u32(4)? as usize;
    let gps = tiff
        .entries(ifd0)?
        .into_iter()
        .find(|e| e.tag == GPS_POINTER);
    if let Some(entry) = gps {
        let gps_ifd = tiff.u32(entry.at + 8)? as usize;
        let ranges = tiff.value_ranges(gps_ifd)?;
        let count = tiff.u16(gps_ifd)? as usize;
        for (start, len) in ranges {
            out.get_mut(start..start + len)?.fill(0);
        }
        out.get_mut(gps_ifd + 2..gps_ifd + 2 + count * 12)?.fill(0);
        out.get_mut(gps_ifd..gps_ifd + 2)?.fill(0);
    }
    // A bad orientation value is simply left for the reader to ignore; pixels are upright already.
    let _ = image::metadata::Orientation::remove_from_exif_chunk(&mut out);
    Some(out)
}

struct Entry {
    tag: u16,
    /// Offset of the 12-byte entry.
    at: usize,
}

struct Tiff<'a> {
    data: &'a [u8],
    little: bool,
}

impl<'a> Tiff<'a> {
    fn new(data: &'a [u8]) -> Option<Self> {
        let little = match data.get(0..4)? {
            [b'I', b'I', 42, 0] => true,
            [b'M', b'M', 0, 42] => false,
            _ => return None,
        };
        Some(Self { data, little })
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn entries(&self, ifd: usize) -> Option<Vec<Entry>> {
        let n = self.u16(ifd)? as usize;
        // Every entry must lie inside the block; hostile counts end the parse.
        self.data.get(ifd + 2..ifd + 2 + n * 12)?;
        Some(
            (0..n)
                .map(|i| ifd + 2 + i * 12)
                .map(|at| Entry {
                    tag: self.u16(at).unwrap_or(0),
                    at,
                })
                .collect(),
        )
    }

    /// Byte ranges of the values an IFD's entries store out of line.
    fn value_ranges(&self, ifd: usize) -> Option<Vec<(usize, usize)>> {
        let mut ranges = Vec::new();
        for e in self.entries(ifd)? {
            let size = match self.u16(e.at + 2)? {
                1 | 2 | 6 | 7 => 1,
                3 | 8 => 2,
                4 | 9 | 11 => 4,
                5 | 10 | 12 => 8,
                _ => 0,
            };
            let len = size * self.u32(e.at + 4)? as usize;
            let start = if len > 4 {
                self.u32(e.at + 8)? as usize
            } else {
                e.at + 8
            };
            self.data.get(start..start + len)?;
            ranges.push((start, len));
        }
        Some(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Little-endian TIFF: IFD0 {Orientation=6, GPS pointer} → GPS IFD {LatitudeRef "N", Latitude 3 rationals}.
    fn sample() -> Vec<u8> {
        let mut t = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
        // IFD0 at 8: 2 entries
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        t.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        t.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(t.len(), 38);
        // GPS IFD at 38: 2 entries, then next-IFD 0, then rational data at 68
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
        t.extend_from_slice(&[0x02, 0x00, 5, 0, 3, 0, 0, 0, 68, 0, 0, 0]);
        t.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(t.len(), 68);
        for v in [48u32, 1, 51, 1, 2405, 100] {
            t.extend_from_slice(&v.to_le_bytes());
        }
        t
    }

    #[test]
    fn gps_is_zeroed_and_orientation_reset() {
        let out = sanitise_exif(&sample()).unwrap();
        assert_eq!(out.len(), sample().len());
        assert!(
            out[38..].iter().all(|b| *b == 0),
            "GPS block not emptied: {:?}",
            &out[38..]
        );
        assert_eq!(
            image::metadata::Orientation::from_exif_chunk(&out),
            Some(image::metadata::Orientation::NoTransforms)
        );
    }

    #[test]
    fn hostile_blocks_are_refused_not_trusted() {
        assert!(sanitise_exif(b"not exif").is_none());
        let mut bad = sample();
        bad[8] = 0xFF; // IFD0 claims 255 entries, past the end
        assert!(sanitise_exif(&bad).is_none());
        let mut bad_gps = sample();
        bad_gps[56] = 0xF0; // the GPS latitude count reaches past the end
        assert!(sanitise_exif(&bad_gps).is_none());
    }
}
