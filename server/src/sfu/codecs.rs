//! Which codecs the SFU negotiates. The SFU forwards a publisher's packets unchanged, so a
//! receiver can only play a track whose codec it decodes; receivers are offered only the
//! publisher's codec. So publishers are answered only with codecs every browser decodes:
//! Opus and VP8. An operator who knows every client decodes more may allow VP9, H264 or
//! AV1 too (`--sfu-extra-codecs`); a publisher that prefers one of those then sends it.

use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_AV1, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_RTX, MIME_TYPE_VP8, MIME_TYPE_VP9,
    MediaEngine,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind,
};

/// A video codec beyond VP8 that an operator may allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtraCodec {
    /// VP9 (profile 0).
    Vp9,
    /// H264 (constrained baseline and high profile, packetization mode 1).
    H264,
    /// AV1.
    Av1,
}

/// The codecs the SFU negotiates: Opus and VP8 always, and what the operator added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Codecs {
    /// VP9 allowed.
    pub vp9: bool,
    /// H264 allowed.
    pub h264: bool,
    /// AV1 allowed.
    pub av1: bool,
}

impl Codecs {
    /// Opus and VP8, plus `extra`.
    pub fn with_extra(extra: &[ExtraCodec]) -> Codecs {
        Codecs {
            vp9: extra.contains(&ExtraCodec::Vp9),
            h264: extra.contains(&ExtraCodec::H264),
            av1: extra.contains(&ExtraCodec::Av1),
        }
    }

    /// Registers these codecs (with the default payload types of the `rtc` crate) and
    /// nothing else.
    pub(crate) fn register(&self, engine: &mut MediaEngine) -> rtc::shared::error::Result<()> {
        engine.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: MIME_TYPE_OPUS.to_owned(),
                    clock_rate: 48_000,
                    channels: 2,
                    sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                    rtcp_feedback: vec![],
                },
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        )?;
        let mut video = vec![(MIME_TYPE_VP8, "", 96, 97)];
        if self.vp9 {
            video.push((MIME_TYPE_VP9, "profile-id=0", 98, 99));
        }
        if self.h264 {
            video.push((
                MIME_TYPE_H264,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                125,
                105,
            ));
            video.push((
                MIME_TYPE_H264,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
                102,
                103,
            ));
            video.push((
                MIME_TYPE_H264,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032",
                123,
                124,
            ));
        }
        if self.av1 {
            video.push((MIME_TYPE_AV1, "profile-id=0", 41, 106));
        }
        let feedback = |typ: &str, parameter: &str| RTCPFeedback {
            typ: typ.to_owned(),
            parameter: parameter.to_owned(),
        };
        for (mime_type, fmtp, payload_type, rtx) in video {
            engine.register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: RTCRtpCodec {
                        mime_type: mime_type.to_owned(),
                        clock_rate: 90_000,
                        channels: 0,
                        sdp_fmtp_line: fmtp.to_owned(),
                        rtcp_feedback: vec![
                            feedback("goog-remb", ""),
                            feedback("ccm", "fir"),
                            feedback("nack", ""),
                            feedback("nack", "pli"),
                        ],
                    },
                    payload_type,
                },
                RtpCodecKind::Video,
            )?;
            engine.register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: RTCRtpCodec {
                        mime_type: MIME_TYPE_RTX.to_owned(),
                        clock_rate: 90_000,
                        channels: 0,
                        sdp_fmtp_line: format!("apt={payload_type}"),
                        rtcp_feedback: vec![],
                    },
                    payload_type: rtx,
                },
                RtpCodecKind::Video,
            )?;
        }
        Ok(())
    }
}
