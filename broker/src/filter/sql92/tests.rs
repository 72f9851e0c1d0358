use super::*;

fn selects(expr: &str, props: &[(&str, &str)]) -> bool {
    let selector = Selector::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let lookup = |name: &str| props.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    selector.matches(&lookup)
}

#[test]
fn the_captured_java_consumers_selector_picks_what_java_picks() {
    // From the SQL92 consumer of the wire captures.
    let e = "(a BETWEEN 3 AND 6 AND color = 'red') OR TAGS = 'vip'";
    assert!(selects(e, &[("a", "4"), ("color", "red")]));
    assert!(selects(e, &[("a", "3"), ("color", "red")]));
    assert!(selects(e, &[("a", "6"), ("color", "red")]));
    assert!(!selects(e, &[("a", "7"), ("color", "red")]));
    assert!(!selects(e, &[("a", "4"), ("color", "blue")]));
    assert!(selects(e, &[("TAGS", "vip")]));
    // No properties at all: NULL, not selected.
    assert!(!selects(e, &[]));
}

#[test]
fn comparisons_read_property_strings_as_the_numbers_they_meet() {
    assert!(selects("a > 2", &[("a", "10")]));
    assert!(selects("a = 10", &[("a", "10")]));
    assert!(selects("a <> 11", &[("a", "10")]));
    assert!(selects("a >= 1.5", &[("a", "2")]));
    assert!(selects("a < 2.5", &[("a", " 2.25 ")]));
    // `Long.valueOf("2.5")` fails in Java: an error, so not selected, even under OR.
    assert!(!selects("a > 2", &[("a", "2.5")]));
    assert!(!selects("a > 2 OR b = 'x'", &[("a", "oops"), ("b", "x")]));
    // ... unless OR was already decided on its left.
    assert!(selects("b = 'x' OR a > 2", &[("a", "oops"), ("b", "x")]));
    // Negation applies to numbers only; a property's string value negates to NULL, as in Java.
    assert!(!selects("-a < -5", &[("a", "6")]));
    assert!(selects("a > -5", &[("a", "-4")]));
    assert!(selects("a = -5L", &[("a", "-5")]));
    assert!(selects("a = 1e3", &[("a", "1000")]));
    assert!(selects("flag = TRUE", &[("flag", "True")]));
    assert!(!selects("flag = TRUE", &[("flag", "yes")]));
}

#[test]
fn null_is_three_valued_and_only_true_selects() {
    assert!(selects("a IS NULL", &[]));
    assert!(!selects("a IS NULL", &[("a", "")]));
    assert!(selects("a IS NOT NULL", &[("a", "")]));
    assert!(!selects("a = 'x'", &[]));
    assert!(!selects("NOT (a = 'x')", &[]));
    assert!(!selects("a <> 'x'", &[]));
    assert!(selects("a = 'x' OR TRUE", &[]));
    assert!(!selects("a = 'x' AND TRUE", &[]));
    assert!(selects("NOT (a = 'x' AND FALSE)", &[]));
    // A bare property never holds TRUE: its value is a string.
    assert!(!selects("a", &[("a", "true")]));
}

#[test]
fn in_between_strings_keywords_and_comments() {
    assert!(selects("c IN ('red', 'green')", &[("c", "green")]));
    assert!(!selects("c IN ('red', 'green')", &[("c", "blue")]));
    assert!(selects("c NOT IN ('red')", &[("c", "blue")]));
    assert!(!selects("c NOT IN ('red')", &[]));
    assert!(selects("n NOT BETWEEN 1 AND 3", &[("n", "4")]));
    assert!(!selects("n not between 1 and 3", &[("n", "2")]));
    assert!(selects("s = 'it''s'", &[("s", "it's")]));
    assert!(selects(
        "-- a comment\n x = 1 /* and\n another */ AND $y_2 = 'ok'",
        &[("x", "1"), ("$y_2", "ok")]
    ));
    // As in Java, a number ends where a keyword starts.
    assert!(selects("x=1and y=2", &[("x", "1"), ("y", "2")]));
}

#[test]
fn what_java_refuses_to_parse_is_refused_with_where() {
    for bad in [
        "",
        "a",
        "5",
        "a = ",
        "a = 'open",
        "a >> 1",
        "a > 'x'",
        "a BETWEEN 5 AND 1",
        "(a = 1",
        "a IN (1, 2)",
        "'x' IN ('x')",
        "a = 1 b = 2",
        "a ! 1",
        "/* never closed",
    ] {
        if bad == "a" {
            // A bare property is a (never true) condition in Java, not an error.
            assert!(Selector::parse(bad).is_ok());
            continue;
        }
        let e = Selector::parse(bad).expect_err(bad);
        assert!(e.at <= bad.len(), "{bad}: {e}");
        assert!(e.to_string().contains(bad), "{e}");
    }
}
