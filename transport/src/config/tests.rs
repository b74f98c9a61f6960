//! Unit tests of `config`: the defaults follow the stated link, validation refuses bad values
//! and broken relations, and the mapping hands quinn every limit explicitly.

use super::*;

#[test]
fn defaults_are_sized_for_a_100ms_1gbit_link() {
    let config = TransportConfig::default();
    config.validate().expect("defaults are valid");
    assert_eq!(LINK_BDP_BYTES, 12_500_000);
    assert!(config.stream_receive_window_bytes >= LINK_BDP_BYTES);
    assert!(config.connection_receive_window_bytes >= 2 * LINK_BDP_BYTES);
    assert!(config.send_window_bytes >= 2 * LINK_BDP_BYTES);
    assert_eq!(config.congestion, CongestionController::Cubic);
    assert!(!config.allow_unauthenticated_remote);
}

#[test]
fn keep_alive_must_fit_the_idle_timeout_three_times() {
    let config = TransportConfig {
        idle_timeout_ms: 10_000,
        keep_alive_interval_ms: 4_000,
        connect_timeout_ms: 5_000,
        request_read_ms_max: 5_000,
        ..TransportConfig::default()
    };
    assert!(matches!(
        config.validate(),
        Err(ConfigError::KeepAliveTooSlow { .. })
    ));
    let config = TransportConfig {
        keep_alive_interval_ms: 3_000,
        ..config
    };
    config.validate().expect("3 keep-alives per idle timeout");
    let config = TransportConfig {
        keep_alive_interval_ms: 0,
        ..config
    };
    assert!(matches!(
        config.validate(),
        Err(ConfigError::KeepAliveTooSlow { .. })
    ));
}

#[test]
fn out_of_range_values_name_their_setting() {
    let cases = [
        TransportConfig {
            concurrent_streams_max: 0,
            ..TransportConfig::default()
        },
        TransportConfig {
            concurrent_streams_max: CONCURRENT_STREAMS_MAX + 1,
            ..TransportConfig::default()
        },
        TransportConfig {
            stream_receive_window_bytes: WINDOW_BYTES_MAX + 1,
            ..TransportConfig::default()
        },
        TransportConfig {
            connections_max: 0,
            ..TransportConfig::default()
        },
        TransportConfig {
            idle_timeout_ms: IDLE_TIMEOUT_MS_MAX + 1,
            ..TransportConfig::default()
        },
        TransportConfig {
            backoff_initial_ms: 60_000,
            ..TransportConfig::default()
        },
    ];
    for config in cases {
        let error = config.validate().expect_err("invalid config");
        assert!(matches!(error, ConfigError::OutOfRange { .. }), "{error}");
    }
}

#[test]
fn connection_window_must_cover_one_stream_window() {
    let config = TransportConfig {
        stream_receive_window_bytes: 32 * 1024 * 1024,
        connection_receive_window_bytes: 16 * 1024 * 1024,
        ..TransportConfig::default()
    };
    let error = config
        .validate()
        .expect_err("connection window below stream window");
    assert!(
        error
            .to_string()
            .contains("connection_receive_window_bytes"),
        "{error}"
    );
}

#[test]
fn connect_timeout_may_not_exceed_the_idle_timeout() {
    let config = TransportConfig {
        connect_timeout_ms: IDLE_TIMEOUT_MS_DEFAULT + 1,
        ..TransportConfig::default()
    };
    assert!(config.validate().is_err());
}

#[test]
fn quic_parameters_carry_every_setting() {
    let config = TransportConfig {
        idle_timeout_ms: 20_000,
        keep_alive_interval_ms: 2_000,
        congestion: CongestionController::Bbr,
        concurrent_streams_max: 17,
        ..TransportConfig::default()
    };
    let parameters = config.quic_parameters().expect("valid config");
    assert_eq!(parameters.idle_timeout, Duration::from_secs(20));
    assert_eq!(parameters.keep_alive_interval, Duration::from_secs(2));
    assert!(parameters.keep_alive_interval < parameters.idle_timeout);
    assert_eq!(parameters.bidi_streams_max, 17);
    assert_eq!(parameters.uni_streams_max, 0);
    assert!(!parameters.datagrams_enabled);
    assert!(!parameters.migration);
    assert_eq!(parameters.congestion, CongestionController::Bbr);
    assert_eq!(
        parameters.stream_receive_window_bytes,
        STREAM_RECEIVE_WINDOW_BYTES_DEFAULT
    );
    assert_eq!(
        parameters.receive_window_bytes,
        CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT
    );
    assert_eq!(parameters.incoming_handshakes_max, INCOMING_HANDSHAKES_MAX);
    // quinn accepts what we built.
    parameters
        .transport_config()
        .expect("quinn transport config");
}

#[test]
fn invalid_config_never_reaches_quinn() {
    let config = TransportConfig {
        keep_alive_interval_ms: 60_000,
        ..TransportConfig::default()
    };
    assert!(config.quic_parameters().is_err());
}

#[test]
fn congestion_controller_parses_its_setting_values() {
    assert_eq!(
        CongestionController::parse("bbr"),
        Ok(CongestionController::Bbr)
    );
    assert_eq!(
        CongestionController::parse("CUBIC"),
        Ok(CongestionController::Cubic)
    );
    assert!(CongestionController::parse("reno").is_err());
}
