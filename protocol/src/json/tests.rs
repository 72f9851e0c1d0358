use super::*;
use std::collections::BTreeMap;

#[test]
fn reads_fastjson_numeric_keys_and_writes_them_back_bare() {
    let text =
        br#"{"brokerAddrs":{0:"127.0.0.2:20921",1:"127.0.0.3:20921"},"brokerName":"broker-a"}"#;
    let v = parse(text).unwrap();
    let addrs = v.get("brokerAddrs").unwrap();
    let m: BTreeMap<i64, String> = JsonCodec::from_json(addrs).unwrap();
    assert_eq!(m[&0], "127.0.0.2:20921");
    assert_eq!(m[&1], "127.0.0.3:20921");
    assert_eq!(v.to_fastjson().as_bytes(), text);
    assert_eq!(
        v.write(JsonStyle::Standard),
        r#"{"brokerAddrs":{"0":"127.0.0.2:20921","1":"127.0.0.3:20921"},"brokerName":"broker-a"}"#
    );
}

#[test]
fn numeric_keys_also_read_when_quoted() {
    let m: BTreeMap<i64, String> = from_slice(br#"{"0":"a","7":"b"}"#).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[&7], "b");
}

#[test]
fn object_keys_round_trip_in_fastjson_and_become_strings_in_standard() {
    let text = br#"{"offsetTable":{{"brokerName":"broker-a","queueId":2,"topic":"T"}:3}}"#;
    let v = parse(text).unwrap();
    assert_eq!(v.to_fastjson().as_bytes(), text);
    let std = v.write(JsonStyle::Standard);
    assert_eq!(
        std,
        r#"{"offsetTable":{"{\"brokerName\":\"broker-a\",\"queueId\":2,\"topic\":\"T\"}":3}}"#
    );
    // The standard form parses back to a string key holding the object's text.
    let back = parse(std.as_bytes()).unwrap();
    let Json::Object(table) = back.get("offsetTable").unwrap() else {
        panic!("not an object")
    };
    assert_eq!(
        parse(table[0].0.as_str().unwrap().as_bytes()).unwrap(),
        parse(br#"{"brokerName":"broker-a","queueId":2,"topic":"T"}"#).unwrap()
    );
}

#[test]
fn accepts_single_quotes_identifier_keys_trailing_commas_and_escapes() {
    let v = parse(
        br#" { name : 'it''s', "list": [1, 2, ], 'esc': "a\u0001b\x41\"\u00e9\ud83d\ude00", } "#,
    );
    // 'it''s' is not valid even for fastjson: two adjacent strings.
    assert!(v.is_err());
    let v = parse(
        br#" { name : 'a"b', "list": [1, 2, ], 'esc': "a\u0001b\x41\"\u00e9\ud83d\ude00", } "#,
    )
    .unwrap();
    assert_eq!(v.get("name").unwrap().as_str(), Some("a\"b"));
    assert_eq!(
        v.get("list"),
        Some(&Json::Array(vec![Json::Int(1), Json::Int(2)]))
    );
    assert_eq!(v.get("esc").unwrap().as_str(), Some("a\u{1}bA\"é😀"));
}

#[test]
fn writes_property_separators_as_unicode_escapes_like_fastjson() {
    let s = Json::Str("KEYS\u{1}k\u{2}TAGS\u{1}A".into());
    assert_eq!(s.to_fastjson(), r#""KEYS\u0001k\u0002TAGS\u0001A""#);
    assert_eq!(parse(s.to_fastjson().as_bytes()).unwrap(), s);
}

#[test]
fn every_string_reads_back_as_written_whatever_it_has_to_escape() {
    for text in [
        "",
        "plain",
        "\"quoted\" and \\ back\\slashed",
        "line\nfeed\rreturn\ttab\u{0}nul\u{1f}",
        "é😀 then \u{1}, multi-byte next to escapes\"é",
        "\u{2}",
    ] {
        let written = Json::Str(text.into()).to_fastjson();
        assert_eq!(
            parse(written.as_bytes()).unwrap().as_str(),
            Some(text),
            "{written}"
        );
    }
}

#[test]
fn numbers_keep_their_kind() {
    let v = parse(br#"{"a":0.0,"b":-12,"c":1795256160542,"d":1e3,"e":9223372036854775808,"f":5L}"#)
        .unwrap();
    assert_eq!(v.get("a"), Some(&Json::Float(0.0)));
    assert_eq!(v.get("b"), Some(&Json::Int(-12)));
    assert_eq!(v.get("c"), Some(&Json::Int(1795256160542)));
    assert_eq!(v.get("d"), Some(&Json::Float(1000.0)));
    assert!(matches!(v.get("e"), Some(Json::Float(_))));
    assert_eq!(v.get("f"), Some(&Json::Int(5)));
    assert_eq!(Json::Float(0.0).to_fastjson(), "0.0");
}

#[test]
fn integers_read_exactly_up_to_the_limits_of_i64() {
    let v = parse(br#"[9223372036854775807,-9223372036854775808,-9223372036854775809,007,-0,0,-]"#);
    assert!(v.is_err(), "a lone minus is not a number");
    let v = parse(br#"[9223372036854775807,-9223372036854775808,-9223372036854775809,007,-0]"#)
        .unwrap();
    let Json::Array(items) = v else {
        panic!("not an array")
    };
    assert_eq!(items[0], Json::Int(i64::MAX));
    assert_eq!(items[1], Json::Int(i64::MIN));
    assert!(matches!(items[2], Json::Float(_)), "{:?}", items[2]);
    assert_eq!(items[3], Json::Int(7));
    assert_eq!(items[4], Json::Int(0));
    for n in [i64::MIN, -1, 0, 9, 10, i64::MAX] {
        assert_eq!(Json::Int(n).to_fastjson(), n.to_string());
    }
}

#[test]
fn rejects_malformed_input_with_an_offset_not_a_panic() {
    for bad in [
        &b"{"[..],
        b"{\"a\" 1}",
        b"[1 2]",
        b"\"abc",
        b"{\"a\":tru}",
        b"",
        b"{}x",
        b"\"\\q\"",
        b"\"\xff\"",
    ] {
        match parse(bad) {
            Err(JsonError::Syntax { offset, .. }) => assert!(offset <= bad.len()),
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(bad)),
        }
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    assert_eq!(
        parse(deep.as_bytes()),
        Err(JsonError::TooDeep(parse::MAX_DEPTH))
    );
    let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(parse(ok.as_bytes()).is_ok());
}

crate::json_bean! {
    /// Test bean.
    #[derive(Eq, PartialOrd, Ord)]
    pub struct Queue {
        pub topic: String => "topic",
        pub broker_name: String => "brokerName",
        pub queue_id: i32 => "queueId",
        pub note: Option<String> => "note",
    }
}

#[test]
fn beans_sort_fields_omit_none_and_tolerate_missing_fields() {
    let q = Queue {
        topic: "T".into(),
        broker_name: "b".into(),
        queue_id: 2,
        note: None,
    };
    assert_eq!(
        q.to_json().to_fastjson(),
        r#"{"brokerName":"b","queueId":2,"topic":"T"}"#
    );
    let back: Queue =
        from_slice(br#"{"queueId":"2","topic":"T","brokerName":"b","extra":[1]}"#).unwrap();
    assert_eq!(back, q);
    let partial: Queue = from_slice(br#"{"topic":"T"}"#).unwrap();
    assert_eq!(partial.queue_id, 0);
    let err = from_slice::<Queue>(br#"{"queueId":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("queueId"), "{err}");
}

#[test]
fn beans_work_as_map_keys_in_both_styles() {
    let mut table = BTreeMap::new();
    table.insert(
        Queue {
            topic: "T".into(),
            broker_name: "b".into(),
            queue_id: 1,
            note: None,
        },
        7i64,
    );
    for style in [JsonStyle::Fastjson, JsonStyle::Standard] {
        let text = to_vec(&table, style);
        let back: BTreeMap<Queue, i64> = from_slice(&text).unwrap();
        assert_eq!(back, table, "{}", String::from_utf8_lossy(&text));
    }
}
