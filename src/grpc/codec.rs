//! The servers' codec: prost's, with a small encode buffer that each message grows to its size
//! at once.
//!
//! tonic allocates each response stream's encode buffer up front (8 KiB by default) and keeps
//! it for the stream's life. A catalog-change subscriber idles for weeks between months, so
//! those 8 KiB were a third of what an idle subscriber costs. Each message reserves its
//! encoded length before it is written, so a bigger answer costs one allocation, not a
//! doubling series of them.
//!
//! A request that is not valid protobuf is INVALID_ARGUMENT (prost's decoder answers
//! INTERNAL, naming the message's Rust type): the caller sent it, and it learns nothing of
//! how the server is built.

use std::marker::PhantomData;

use prost::Message;
use tonic::Code;
use tonic::Status;
use tonic::codec::{
    BufferSettings, Codec as TonicCodec, DecodeBuf, Decoder as TonicDecoder, EncodeBuf,
    Encoder as TonicEncoder,
};
use tonic_types::{ErrorDetails, StatusExt};

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
    type Decoder = Decoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        Encoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        Decoder(PhantomData)
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

#[derive(Debug, Clone, Copy)]
pub struct Decoder<U>(PhantomData<U>);

impl<U: Message + Default> TonicDecoder for Decoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|_| malformed_request())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(ENCODE_BUFFER, YIELD_THRESHOLD)
    }
}

/// The status of a request message that does not decode: the cause names internal types.
pub fn malformed_request() -> Status {
    Status::with_error_details(
        Code::InvalidArgument,
        "the request message is not a valid protobuf encoding of this method's request",
        ErrorDetails::with_error_info("MALFORMED_MESSAGE", super::error::ERROR_DOMAIN, []),
    )
}
