# tests/e2e/baresip_conf.sh: the baresip configuration of a test phone,
# for the e2e and cluster tests that drive real baresip phones (sourced).
#
# baresip_config DIR LISTEN IFACE CTRL_PORT SOURCE: DIR/config for a phone
# listening for SIP on LISTEN (ADDR:PORT) on interface IFACE, G.711 only,
# SOURCE (a wav file) as its microphone (aufile), what it hears recorded
# into DIR (sndfile), driven over ctrl_tcp on 127.0.0.1:CTRL_PORT.
baresip_config() {
	cat > "$1/config" <<EOF
poll_method		epoll
sip_listen		$2
net_interface		$3
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			sndfile.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:$4
audio_source		aufile,$5
snd_path		$1
EOF
}
