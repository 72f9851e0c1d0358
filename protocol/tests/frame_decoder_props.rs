//! Property tests: the frame decoder survives arbitrary bytes and bounds what it accepts.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use ringmq_protocol::{
    ExtFields, FrameDecoder, LanguageCode, ProtocolError, RemotingCommand, SerializeType,
};

fn command() -> impl Strategy<Value = RemotingCommand> {
    (
        any::<i16>(),
        any::<i16>(),
        any::<i32>(),
        0i32..4,
        proptest::option::of(".{0,40}"),
        proptest::option::of(proptest::collection::vec(
            ("[a-zA-Z]{1,12}", ".{0,30}"),
            0..8,
        )),
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    )
        .prop_map(
            |(code, version, opaque, flag, remark, fields, body, binary)| RemotingCommand {
                code: i32::from(code),
                language: LanguageCode::JAVA,
                version: i32::from(version),
                opaque,
                flag,
                remark: remark.filter(|r| !r.is_empty()),
                ext_fields: fields
                    .map(|f| f.into_iter().collect::<ExtFields>())
                    .filter(|f| !f.is_empty()),
                serialize_type: if binary {
                    SerializeType::RocketMq
                } else {
                    SerializeType::Json
                },
                body: Bytes::from(body),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let decoder = FrameDecoder::new(1024);
        let mut buf = BytesMut::from(&data[..]);
        // Decode until it needs more bytes or reports an error; either is fine, a panic is not.
        while let Ok(Some(_)) = decoder.decode(&mut buf) {}
        let _ = RemotingCommand::decode(Bytes::from(data));
    }

    #[test]
    fn commands_round_trip_in_both_encodings(cmd in command()) {
        let bytes = cmd.to_bytes();
        let back = RemotingCommand::decode(bytes.clone()).unwrap();
        prop_assert_eq!(&back, &cmd);
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(FrameDecoder::default().decode(&mut buf).unwrap(), Some(cmd));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn oversized_length_prefixes_are_refused_before_buffering(len in 1025u32..=u32::MAX) {
        let decoder = FrameDecoder::new(1024);
        let mut buf = BytesMut::from(&len.to_be_bytes()[..]);
        let err = decoder.decode(&mut buf).unwrap_err();
        prop_assert_eq!(err, ProtocolError::FrameTooLarge { len: len as usize, max: 1024 });
        prop_assert!(buf.capacity() < 1024, "decoder reserved space for a refused frame");
    }

    #[test]
    fn corrupt_header_lengths_are_errors(cmd in command(), header_len in any::<u32>()) {
        let mut bytes = BytesMut::from(&cmd.to_bytes()[..]);
        let word = (u32::from(cmd.serialize_type.code()) << 24) | (header_len & 0x00FF_FFFF);
        bytes[4..8].copy_from_slice(&word.to_be_bytes());
        // Either decodes (the length happened to fit) or fails cleanly.
        let _ = RemotingCommand::decode(bytes.freeze());
    }
}
