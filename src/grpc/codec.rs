//! The servers' codec: prost's, with a small encode buffer that each message grows to its size
//! at once.
//!
//! tonic allocates each response stream's encode buffer up front (8 KiB by default) and keeps
//! it for the stream's life. A catalog-change subscriber idles for weeks between months, so
//! those 8 KiB were a third of what an idle subscriber costs. Each message reserves its
//! encoded length before it is written, so a bigger answer costs one allocation, not a
//! doubling series of them.

use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec as TonicCodec, EncodeBuf, Encoder as TonicEncoder};
use tonic_prost::ProstDecoder;

/// Initial encode buffer of a response (unary or stream).
const ENCODE_BUFFER: usize = 512;
/// Encoded bytes a stream gathers before handing them to the connection: tonic's default.
const YIELD_THRESHOLD: usize = 32 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> TonicCodec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = Encoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        Encoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(BufferSettings::new(ENCODE_BUFFER, YIELD_THRESHOLD))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Encoder<T>(PhantomData<T>);

impl<T: Message> TonicEncoder for Encoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.reserve(item.encoded_len());
        item.encode_raw(dst);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(ENCODE_BUFFER, YIELD_THRESHOLD)
    }
}
