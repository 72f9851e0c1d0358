//! Transactional message headers: ending a transaction, the broker's check-back, and the values
//! of `commitOrRollback`.

/// `commitOrRollback`: not a transactional message (the transaction-type bits of `sysFlag`).
pub const TRANSACTION_NOT_TYPE: i32 = 0;
/// `commitOrRollback` value of a half (prepared) message; never valid to end a transaction with.
pub const TRANSACTION_PREPARED_TYPE: i32 = 1 << 2;
/// `commitOrRollback`: commit the half message.
pub const TRANSACTION_COMMIT_TYPE: i32 = 2 << 2;
/// `commitOrRollback`: roll the half message back.
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 3 << 2;

crate::command_header! {
    /// `END_TRANSACTION` (37, oneway from stock clients): a producer commits or rolls back a half
    /// message, after its local transaction or in answer to a check-back.
    pub struct EndTransactionRequestHeader: RpcRequestHeader {
        pub producer_group: String => "producerGroup",
        /// Consume queue offset of the half message.
        pub tran_state_table_offset: i64 => "tranStateTableOffset",
        /// Commit log offset of the half message.
        pub commit_log_offset: i64 => "commitLogOffset",
        /// One of the `TRANSACTION_*_TYPE` constants.
        pub commit_or_rollback: i32 => "commitOrRollback",
        /// Sent in answer to `CHECK_TRANSACTION_STATE`.
        pub from_transaction_check: Option<bool> => "fromTransactionCheck",
        /// Unique (client-side) id of the half message.
        pub msg_id: String => "msgId",
        pub transaction_id: Option<String> => "transactionId",
        /// 5.x: the half message's topic.
        pub topic: Option<String> => "topic",
    }
}

crate::command_header! {
    /// Answer to `END_TRANSACTION` (37); it has no fields.
    pub struct EndTransactionResponseHeader {}
}

crate::command_header! {
    /// `CHECK_TRANSACTION_STATE` (39, broker to producer, oneway, half message as body): asks the
    /// producer for the outcome of a transaction left open too long.
    pub struct CheckTransactionStateRequestHeader: RpcRequestHeader {
        /// Consume queue offset of the half message.
        pub tran_state_table_offset: i64 => "tranStateTableOffset",
        /// Commit log offset of the half message.
        pub commit_log_offset: i64 => "commitLogOffset",
        /// Unique (client-side) id of the half message.
        pub msg_id: Option<String> => "msgId",
        pub transaction_id: Option<String> => "transactionId",
        /// Offset message id (store host + commit log offset) of the half message.
        pub offset_msg_id: Option<String> => "offsetMsgId",
        /// 5.x: the half message's topic.
        pub topic: Option<String> => "topic",
    }
}

crate::command_header! {
    /// Java's answer header for `CHECK_TRANSACTION_STATE` (39); stock clients never send it (the
    /// check-back is oneway and answered with `END_TRANSACTION`).
    pub struct CheckTransactionStateResponseHeader {
        pub producer_group: String => "producerGroup",
        pub tran_state_table_offset: i64 => "tranStateTableOffset",
        pub commit_log_offset: i64 => "commitLogOffset",
        /// One of the `TRANSACTION_*_TYPE` constants.
        pub commit_or_rollback: i32 => "commitOrRollback",
    }
}

crate::command_header! {
    /// `RESUME_CHECK_HALF_MESSAGE` (323): an admin asks the broker to check a half message again.
    pub struct ResumeCheckHalfMessageRequestHeader {
        /// Unique id of the half message.
        pub msg_id: Option<String> => "msgId",
        /// 5.x: the half message's topic.
        pub topic: Option<String> => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ProtocolError;
    use crate::ext_fields::ExtFields;
    use crate::header::test_support::{fields, round_trip};
    use crate::header::CommandHeader;
    use std::fmt::Debug;

    /// Decodes `pairs` and checks that re-encoding gives back the same fields.
    fn decode_exact<H: CommandHeader + Debug>(pairs: &[(&str, &str)]) -> H {
        let f = fields(pairs);
        let h = H::decode(&f).unwrap();
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.len(), f.len(), "{h:?} re-encoded as {out:?}");
        for (k, v) in f.iter() {
            assert_eq!(out.get(k), Some(v), "field {k}");
        }
        h
    }

    #[test]
    fn commit_or_rollback_values() {
        assert_eq!(
            [
                TRANSACTION_NOT_TYPE,
                TRANSACTION_PREPARED_TYPE,
                TRANSACTION_COMMIT_TYPE,
                TRANSACTION_ROLLBACK_TYPE
            ],
            [0, 4, 8, 12]
        );
    }

    #[test]
    fn round_trips() {
        round_trip(
            EndTransactionRequestHeader {
                producer_group: "PG".into(),
                tran_state_table_offset: 1,
                commit_log_offset: 2,
                commit_or_rollback: TRANSACTION_ROLLBACK_TYPE,
                from_transaction_check: Some(true),
                msg_id: "M".into(),
                transaction_id: Some("X".into()),
                topic: Some("T".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(true),
            },
            12,
        );
        round_trip(EndTransactionResponseHeader {}, 0);
        round_trip(
            CheckTransactionStateRequestHeader {
                tran_state_table_offset: 3,
                commit_log_offset: 4,
                msg_id: Some("M".into()),
                transaction_id: Some("X".into()),
                offset_msg_id: Some("O".into()),
                topic: Some("T".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
            },
            10,
        );
        round_trip(
            CheckTransactionStateResponseHeader {
                producer_group: "PG".into(),
                tran_state_table_offset: 5,
                commit_log_offset: 6,
                commit_or_rollback: TRANSACTION_COMMIT_TYPE,
            },
            4,
        );
        round_trip(
            ResumeCheckHalfMessageRequestHeader {
                msg_id: Some("M".into()),
                topic: Some("T".into()),
            },
            2,
        );
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    #[test]
    fn captured_end_transaction() {
        let commit: EndTransactionRequestHeader = decode_exact(&[
            ("producerGroup", "GID_tx_p_256166t12tra"),
            ("bname", "broker-a"),
            ("commitLogOffset", "215813"),
            (
                "msgId",
                "FD0000000000000000000000000000021A2730946E09693483470000",
            ),
            ("tranStateTableOffset", "0"),
            ("commitOrRollback", "8"),
            ("fromTransactionCheck", "false"),
        ]);
        assert_eq!(
            commit,
            EndTransactionRequestHeader {
                producer_group: "GID_tx_p_256166t12tra".into(),
                tran_state_table_offset: 0,
                commit_log_offset: 215813,
                commit_or_rollback: TRANSACTION_COMMIT_TYPE,
                from_transaction_check: Some(false),
                msg_id: "FD0000000000000000000000000000021A2730946E09693483470000".into(),
                broker_name: Some("broker-a".into()),
                ..Default::default()
            }
        );

        let rollback: EndTransactionRequestHeader = decode_exact(&[
            ("producerGroup", "GID_tx_p_256166t12tra"),
            ("bname", "broker-a"),
            ("commitLogOffset", "216139"),
            (
                "msgId",
                "FD0000000000000000000000000000021A2730946E09693483650001",
            ),
            ("tranStateTableOffset", "1"),
            ("commitOrRollback", "12"),
            ("fromTransactionCheck", "false"),
        ]);
        assert_eq!(rollback.commit_or_rollback, TRANSACTION_ROLLBACK_TYPE);
        assert_eq!(
            (rollback.tran_state_table_offset, rollback.commit_log_offset),
            (1, 216139)
        );

        // Answer to a check-back: no bname, but a transactionId.
        let from_check: EndTransactionRequestHeader = decode_exact(&[
            ("producerGroup", "GID_tx_p_256166t12tra"),
            ("commitLogOffset", "217387"),
            (
                "msgId",
                "FD0000000000000000000000000000021A2730946E096934836C0002",
            ),
            ("tranStateTableOffset", "3"),
            ("commitOrRollback", "8"),
            (
                "transactionId",
                "FD0000000000000000000000000000021A2730946E096934836C0002",
            ),
            ("fromTransactionCheck", "true"),
        ]);
        assert_eq!(from_check.from_transaction_check, Some(true));
        assert_eq!(from_check.broker_name, None);
        assert_eq!(
            from_check.transaction_id.as_deref(),
            Some("FD0000000000000000000000000000021A2730946E096934836C0002")
        );
    }

    #[test]
    fn captured_check_transaction_state() {
        let h: CheckTransactionStateRequestHeader = decode_exact(&[
            ("commitLogOffset", "217387"),
            (
                "msgId",
                "FD0000000000000000000000000000021A2730946E096934836C0002",
            ),
            ("tranStateTableOffset", "3"),
            ("offsetMsgId", "7F000002000051B9000000000003512B"),
            (
                "transactionId",
                "FD0000000000000000000000000000021A2730946E096934836C0002",
            ),
        ]);
        assert_eq!(
            h,
            CheckTransactionStateRequestHeader {
                tran_state_table_offset: 3,
                commit_log_offset: 217387,
                msg_id: Some("FD0000000000000000000000000000021A2730946E096934836C0002".into()),
                transaction_id: Some(
                    "FD0000000000000000000000000000021A2730946E096934836C0002".into()
                ),
                offset_msg_id: Some("7F000002000051B9000000000003512B".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn missing_required_field() {
        let f = fields(&[
            ("producerGroup", "PG"),
            ("commitLogOffset", "1"),
            ("tranStateTableOffset", "0"),
            ("commitOrRollback", "8"),
        ]);
        assert_eq!(
            EndTransactionRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("msgId"))
        );
    }
}
