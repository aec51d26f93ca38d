"""French forms of every detail and hint ``edge-agent diag`` writes (``diag --lang fr``).

Each entry: a stable message id -> (the English template, the French template). Placeholders
``{name}`` stand for the values the check puts in the text (a host, a path, an error); the
English template is the text the check writes, so ``edge_agent.diag.i18n`` recognises a result
by it and renders the French form with the same values. tests/ops/test_diag_lang_fr.py checks
that every message a check module can write has an entry here, with the same placeholders.
"""

from __future__ import annotations

CATALOGUE: dict[str, tuple[str, str]] = {
    "broker.dns_resolved": (
        "{host} → {p1}",
        "{host} → {p1}",
    ),
    "broker.connected_ms": (
        "{host}:{port} connected in {elapsed_ms} ms",
        "{host}:{port} connecté en {elapsed_ms} ms",
    ),
    "broker.valid_until_days": (
        "{tls_cert} valid until {expiry} ({left} days)",
        "{tls_cert} valide jusqu'au {expiry} ({left} jours)",
    ),
    "broker.server_certificate_valid_until": (
        "{version}; server certificate valid until {expiry}",
        "{version} ; certificat du serveur valide jusqu'au {expiry}",
    ),
    "broker.no_backend_configured": (
        "no {kind} backend configured",
        "aucun backend {kind} configuré",
    ),
    "broker.no_client_certificate_configured_password": (
        "no client certificate configured (password or anonymous)",
        "aucun certificat client configuré (mot de passe ou connexion anonyme)",
    ),
    "broker.expired": (
        "{tls_cert} expired on {expiry}",
        "{tls_cert} a expiré le {expiry}",
    ),
    "broker.expires_days": (
        "{tls_cert} expires on {expiry} ({left} days)",
        "{tls_cert} expire le {expiry} ({left} jours)",
    ),
    "broker.plain_tcp_no_tls_configured": (
        "plain tcp:// (no TLS configured)",
        "tcp:// en clair (pas de TLS configuré)",
    ),
    "broker.server_certificate_not_inspected": (
        "{version}, server certificate not inspected",
        "{version}, certificat du serveur non inspecté",
    ),
    "broker.server_certificate_expires_days": (
        "{version}; server certificate expires on {expiry} ({left} days)",
        "{version} ; le certificat du serveur expire le {expiry} ({left} jours)",
    ),
    "broker.renew_broker_certificate_before_expires": (
        "renew the broker's certificate before it expires",
        "faites renouveler le certificat du broker avant son expiration",
    ),
    "broker.gateway_id_unknown_not_config": (
        "gateway id unknown (not in the config and no daemon answers)",
        ("identifiant de passerelle inconnu (absent de la configuration et aucun démon ne répond)"),
    ),
    "broker.set_gateway_id_start_daemon": (
        "set [gateway] id, or start the daemon so it reads the chip EUI",
        "renseignez [gateway] id, ou démarrez le démon pour qu'il lise l'EUI de la puce",
    ),
    "broker.round_trip_ms": (
        "round trip on {topic} in {elapsed_ms} ms",
        "aller-retour sur {topic} en {elapsed_ms} ms",
    ),
    "broker.does_not_resolve": (
        "{host} does not resolve: {strerror}",
        "{host} ne se résout pas : {strerror}",
    ),
    "broker.check_mqtt_server_typos_dns": (
        "check [mqtt] server for typos and the DNS servers (resolvectl status, resolv.conf)",
        (
            "vérifiez [mqtt] server (faute de frappe ?) et les serveurs DNS (resolvectl status, "
            "resolv.conf)"
        ),
    ),
    "broker.cannot_connect": (
        "cannot connect to {host}:{port}: {reason}",
        "connexion impossible à {host}:{port} : {reason}",
    ),
    "broker.check_broker_runs_listens_that": (
        (
            "check the broker runs and listens on that port, and that no firewall blocks it "
            "(e.g. 'nc -vz {host} {port}')"
        ),
        (
            "vérifiez que le broker tourne et écoute sur ce port, et qu'aucun pare-feu ne le "
            "bloque (par exemple 'nc -vz {host} {port}')"
        ),
    ),
    "broker.not_readable_pem_certificate": (
        "{tls_cert} is not a readable PEM certificate: {exc}",
        "{tls_cert} n'est pas un certificat PEM lisible : {exc}",
    ),
    "broker.key_do_not_load_together": (
        "{tls_cert} and key {tls_key} do not load together: {exc}",
        "{tls_cert} et la clé {tls_key} ne se chargent pas ensemble : {exc}",
    ),
    "broker.key_must_be_certificate_own": (
        "the key must be the certificate's own, readable by the service user",
        "la clé doit être celle du certificat, lisible par l'utilisateur du service",
    ),
    "broker.server_certificate_rejected": (
        "server certificate rejected: {verify_message}",
        "certificat du serveur refusé : {verify_message}",
    ),
    "broker.set_mqtt_ca_cert_ca": (
        (
            "set [mqtt] ca_cert to the CA that signed the broker's certificate, and use the host "
            "name the certificate was issued for in [mqtt] server"
        ),
        (
            "mettez dans [mqtt] ca_cert l'autorité (CA) qui a signé le certificat du broker, et "
            "dans [mqtt] server le nom d'hôte pour lequel ce certificat a été émis"
        ),
    ),
    "broker.encrypted_key_needs_mqtt_tls": (
        "an encrypted key needs [mqtt] tls_key_password or tls_key_password_file",
        "une clé chiffrée demande [mqtt] tls_key_password ou tls_key_password_file",
    ),
    "broker.tls_handshake_with": (
        "TLS handshake with {host}:{port}: {reason}",
        "négociation TLS avec {host}:{port} : {reason}",
    ),
    "broker.tls_connection_failed": (
        "TLS connection failed: {exc}",
        "échec de la connexion TLS : {exc}",
    ),
    "broker.see_broker_tcp": (
        "see broker-tcp",
        "voir broker-tcp",
    ),
    "broker.broker_refused_connection": (
        "broker refused the connection: {rc} ({who})",
        "le broker a refusé la connexion : {rc} ({who})",
    ),
    "broker.check_mqtt_username_password_against": (
        (
            "check [mqtt] username and password against the broker's password file "
            "(mosquitto_passwd), or that this gateway's client certificate is allowed"
        ),
        (
            "vérifiez [mqtt] username et password dans le fichier de mots de passe du broker "
            "(mosquitto_passwd), ou que le certificat client de cette passerelle est autorisé"
        ),
    ),
    "broker.subscription_refused": (
        "subscription to {topic} refused",
        "abonnement à {topic} refusé",
    ),
    "broker.returned": (
        "{topic} returned {payload}",
        "{topic} a renvoyé {payload}",
    ),
    "broker.another_client_uses_this_topic": (
        "another client uses this topic",
        "un autre client utilise ce topic",
    ),
    "broker.connect": (
        "connect to {host}:{port}: {exc}",
        "connexion à {host}:{port} : {exc}",
    ),
    "broker.see_broker_tcp_broker_tls": (
        "see broker-tcp / broker-tls",
        "voir broker-tcp / broker-tls",
    ),
    "broker.closed_connection_before_connack": (
        "{host}:{port} closed the connection before CONNACK ({exc})",
        "{host}:{port} a fermé la connexion avant le CONNACK ({exc})",
    ),
    "broker.broker_refused_tls_session_client": (
        (
            "the broker refused the TLS session or the client: see client-cert and broker-tls, "
            "and the broker's log"
        ),
        (
            "le broker a refusé la session TLS ou le client : voir client-cert et broker-tls, "
            "ainsi que le journal du broker"
        ),
    ),
    "broker.no_connack_from_within": (
        "no CONNACK from {host}:{port} within {timeout_s} s",
        "pas de CONNACK de {host}:{port} en {timeout_s} s",
    ),
    "broker.broker_accepted_tcp_but_did": (
        "the broker accepted TCP but did not answer MQTT: is the port an MQTT listener?",
        (
            "le broker accepte la connexion TCP mais ne répond pas en MQTT : ce port est-il bien "
            "un port MQTT ?"
        ),
    ),
    "broker.no_suback": (
        "no SUBACK for {topic} ({why})",
        "pas de SUBACK pour {topic} ({why})",
    ),
    "broker.broker_hung_up_after_publish": (
        "broker hung up after publish on {topic}: {exc}",
        "le broker a coupé la connexion après la publication sur {topic} : {exc}",
    ),
    "broker.published_but_nothing_came_back": (
        "published on {topic} but nothing came back within {timeout_s} s",
        "publication sur {topic} mais rien n'est revenu en {timeout_s} s",
    ),
    "core.skipped_configuration_did_not_load": (
        "skipped: the configuration did not load",
        "ignoré : la configuration ne s'est pas chargée",
    ),
    "core.fix_config_first": (
        "fix the config first",
        "corrigez d'abord la configuration",
    ),
    "core.skipped_failed": (
        "skipped: {p0} failed",
        "ignoré : {p0} a échoué",
    ),
    "core.fix_that_check_first": (
        "fix that check first",
        "corrigez d'abord cette vérification",
    ),
    "core.check_crashed": (
        "check crashed: {__name__}: {exc}",
        "la vérification a planté : {__name__} : {exc}",
    ),
    "core.report_this_as_bug": (
        "report this as a bug",
        "signalez-le comme un bogue",
    ),
    "radio.busy_daemon_holds": (
        "busy: {daemon_error}{holds}",
        "occupé : {daemon_error}{holds}",
    ),
    "radio.cannot_open_concentrator": (
        "cannot open the concentrator: {exc}",
        "impossible d'ouvrir le concentrateur : {exc}",
    ),
    "radio.run_device_gpio_checks_chip": (
        (
            "run the device and gpio checks; a chip in reset reads version 0x00: check the "
            "board's reset and power-enable GPIO lines ([concentrator] board)"
        ),
        (
            "lancez les vérifications device et gpio ; une puce maintenue en reset lit la "
            "version 0x00 : vérifiez les lignes GPIO de reset et d'alimentation de la carte "
            "([concentrator] board)"
        ),
    ),
    "radio.version_0x_eui": (
        "{model} version 0x{version}, EUI {eui}",
        "{model} version 0x{version}, EUI {eui}",
    ),
    "radio.tx_power": (
        "{detail}; TX power: {gaps}",
        "{detail} ; puissance d'émission : {gaps}",
    ),
    "radio.temperature_source": (
        "{celsius} °C ({source})",
        "{celsius} °C ({source})",
    ),
    "radio.busy_open_error": (
        "busy: {exc}",
        "occupé : {exc}",
    ),
    "radio.concentrator_driver_not_available": (
        "concentrator driver not available: {exc}",
        "pilote du concentrateur indisponible : {exc}",
    ),
    "radio.install_full_edge_agent": (
        "install the full edge-agent",
        "installez edge-agent complet",
    ),
    "radio.version_0x_eui_from_running": (
        "{p0} version 0x{p1}, EUI {p2} (from the running daemon)",
        "{p0} version 0x{p1}, EUI {p2} (selon le démon en service)",
    ),
    "radio.chip_version_0x_expected_0x10": (
        "chip version 0x{version} (expected 0x10 SX1302 or 0x12 SX1303)",
        "version de puce 0x{version} (attendu 0x10 SX1302 ou 0x12 SX1303)",
    ),
    "radio.0x00_means_chip_reset_unpowered": (
        (
            "0x00 means the chip is in reset or unpowered: check the reset/power GPIO lines and "
            "the board definition; 0xff means nothing answers on the SPI bus"
        ),
        (
            "0x00 : la puce est en reset ou non alimentée, vérifiez les lignes GPIO de reset et "
            "d'alimentation et la définition de la carte ; 0xff : rien ne répond sur le bus SPI"
        ),
    ),
    "radio.radio_does_not_answer_get": (
        "radio {p0} does not answer GET_STATUS",
        "la radio {p0} ne répond pas à GET_STATUS",
    ),
    "radio.radio_that_stays_silent_after": (
        (
            "a radio that stays silent after reset points to the board (clock, power): try "
            "another concentrator to confirm"
        ),
        (
            "une radio muette après un reset met en cause la carte (horloge, alimentation) : "
            "essayez un autre concentrateur pour confirmer"
        ),
    ),
    "radio.c_implausible": (
        "{celsius} °C ({source}): implausible",
        "{celsius} °C ({source}) : valeur invraisemblable",
    ),
    "radio.check_sensor": (
        "check the sensor",
        "vérifiez le capteur",
    ),
    "radio.improve_enclosure_cooling": (
        "improve the enclosure's cooling",
        "améliorez le refroidissement du coffret",
    ),
    "radio.no_daemon_answers_gps_facts": (
        "no daemon answers: GPS facts come from the running daemon",
        "aucun démon ne répond : les informations GPS viennent du démon en service",
    ),
    "radio.gps_start_daemon": (
        "start it",
        "démarrez-le",
    ),
    "radio.no_gps_configured_class_b": (
        "no GPS configured (class B and geolocation unavailable)",
        "aucun GPS configuré (classe B et géolocalisation indisponibles)",
    ),
    "radio.gps_reader": (
        "GPS reader {p0} ({p1}): {error}",
        "lecteur GPS {p0} ({p1}) : {error}",
    ),
    "radio.daemon_restarts_reader_with_backoff": (
        (
            "the daemon restarts the reader with backoff; a radio that is down takes the GPS "
            "with it (see the concentrator check); else check the GPS serial port"
        ),
        (
            "le démon relance le lecteur en espaçant les tentatives ; une radio arrêtée entraîne "
            "le GPS avec elle (voir la vérification concentrator) ; sinon vérifiez le port série "
            "du GPS"
        ),
    ),
    "radio.no_nmea_from_gps_check": (
        "no NMEA from the GPS: check its serial port and enable_uart=1",
        "aucune trame NMEA du GPS : vérifiez son port série et enable_uart=1",
    ),
    "radio.antenna_needs_open_sky_first": (
        "the antenna needs open sky; a first fix can take 15 min",
        "l'antenne GPS doit voir le ciel ; un premier fix peut prendre 15 min",
    ),
    "radio.no_packet": (
        "no packet in {rx_seconds} s{source}",
        "aucun paquet en {rx_seconds} s{source}",
    ),
    "radio.make_device_transmit_nearby_check": (
        "make a device transmit nearby; check the antenna is connected",
        "faites émettre un capteur à proximité ; vérifiez que l'antenne est branchée",
    ),
    "radio.more_bad_crcs_than_good": (
        "more bad CRCs than good: interference or a poor antenna",
        "plus de CRC mauvais que bons : interférences ou antenne de mauvaise qualité",
    ),
    "radio.daemon_does_not_report_radio": (
        "the daemon does not report radio states",
        "le démon ne donne pas l'état des radios",
    ),
    "radio.daemon_reports": (
        "daemon reports {problems}",
        "le démon signale {problems}",
    ),
    "radio.states_from_daemon": (
        "{states} (daemon){gain}",
        "{states} (démon){gain}",
    ),
    "radio.no_host_side_sensor_daemon": (
        (
            "{scheme}://: no host-side sensor; the daemon reports it (configured fallback "
            "{temperature_c} °C)"
        ),
        (
            "{scheme}:// : pas de capteur côté hôte ; le démon la fournit (valeur de repli "
            "configurée {temperature_c} °C)"
        ),
    ),
    "radio.board_has_no_temperature_sensor": (
        (
            "board {name} has no temperature sensor; RSSI compensation uses [concentrator] "
            "temperature_c = {temperature_c} °C"
        ),
        (
            "la carte {name} n'a pas de capteur de température ; la compensation RSSI utilise "
            "[concentrator] temperature_c = {temperature_c} °C"
        ),
    ),
    "radio.daemon_stopped_answering_during_test": (
        "the daemon stopped answering during the test: {exc}",
        "le démon a cessé de répondre pendant le test : {exc}",
    ),
    "radio.does_not_exist_i2c_disabled": (
        "{bus_path} does not exist: I2C is disabled",
        "{bus_path} n'existe pas : l'I2C est désactivé",
    ),
    "radio.enable_i2c_raspi_config_interface": (
        "enable I2C (raspi-config → Interface Options → I2C), then reboot",
        "activez l'I2C (raspi-config → Interface Options → I2C), puis redémarrez",
    ),
    "radio.no_temperature_sensor": (
        "no temperature sensor: {exc}",
        "pas de capteur de température : {exc}",
    ),
    "radio.enable_i2c_no_sensor": (
        (
            "enable I2C (raspi-config → Interface Options → I2C); without a sensor RSSI uses "
            "[concentrator] temperature_c for compensation"
        ),
        (
            "activez l'I2C (raspi-config → Interface Options → I2C) ; sans capteur, la "
            "compensation RSSI utilise [concentrator] temperature_c"
        ),
    ),
    "spool.rows_that_cannot_be_uplinks": (
        (
            "{detail}; {p1} rows that cannot be uplinks (payload not a BLOB, or over the row "
            "limit): the daemon sets them aside at its next start"
        ),
        (
            "{detail} ; {p1} lignes qui ne peuvent pas être des trames montantes (payload qui "
            "n'est pas un BLOB, ou au-delà de la taille limite) : le démon les met de côté à son "
            "prochain démarrage"
        ),
    ),
    "spool.rows_set_aside_quarantine_table": (
        (
            "{detail}; {p1} rows set aside in its quarantine table (they cannot be uplinks and "
            "are never sent)"
        ),
        (
            "{detail} ; {p1} lignes mises de côté dans sa table de quarantaine (ce ne sont pas "
            "des trames montantes, elles ne sont jamais envoyées)"
        ),
    ),
    "spool.records_wait_more_than_hour": (
        "records wait for more than an hour: check the broker checks",
        (
            "des enregistrements attendent depuis plus d'une heure : voyez les vérifications du "
            "broker"
        ),
    ),
    "spool.not_created_yet_daemon_creates": (
        "{path} not created yet (the daemon creates it on first start)",
        "{path} pas encore créé (le démon le crée à son premier démarrage)",
    ),
    "spool.stop_daemon_move_file_aside": (
        "stop the daemon, move the file aside (records in it are lost) and restart",
        (
            "arrêtez le démon, mettez le fichier de côté (les enregistrements qu'il contient "
            "sont perdus) et redémarrez"
        ),
    ),
    "spool.daemon_refuses_keeps_uplinks_memory": (
        "the daemon refuses it and keeps uplinks in memory only",
        "le démon le refuse et garde les trames montantes en mémoire seulement",
    ),
    "spool.cannot_be_opened": (
        "{path} cannot be opened: {exc}",
        "impossible d'ouvrir {path} : {exc}",
    ),
    "spool.check_owner_edge_agent_mode": (
        "check its owner (edge-agent) and mode",
        "vérifiez son propriétaire (edge-agent) et ses droits",
    ),
    "spool.integrity_damaged": (
        "{path} is damaged: {verdict}",
        "{path} est endommagé : {verdict}",
    ),
    "spool.not_readable_sqlite_database": (
        "{path} is not a readable SQLite database: {exc}",
        "{path} n'est pas une base SQLite lisible : {exc}",
    ),
    "system.user_in_groups": (
        "user {user} in {names}",
        "utilisateur {user} dans {names}",
    ),
    "system.present_openable": (
        "{path} present and openable",
        "{path} présent et accessible",
    ),
    "system.gpio_present_openable": (
        "{p0} present; {p1} openable",
        "{p0} présent ; {p1} accessible",
    ),
    "system.firmware_dir_facts": (
        "{fw_dir}: {problems}",
        "{fw_dir} : {problems}",
    ),
    "system.clock_reason_detail": (
        "{reason}{detail}",
        "{reason}{detail}",
    ),
    "system.fix_message_names_key_edge": (
        (
            "fix {config_path} (the message names the key); 'edge-agent config check -c FILE' "
            "shows the same error"
        ),
        (
            "corrigez {config_path} (le message nomme la clé) ; 'edge-agent config check -c "
            "FILE' affiche la même erreur"
        ),
    ),
    "system.running_as_root_every_device": (
        "running as root: every device is accessible",
        "exécuté en root : tous les périphériques sont accessibles",
    ),
    "system.user_lacks_group": (
        "user {user} lacks group {p1}",
        "l'utilisateur {user} n'est pas dans le groupe {p1}",
    ),
    "system.sudo_usermod_ag_then_log": (
        (
            "sudo usermod -aG {p0} {user}, then log out and in again (the service user gets them "
            "from systemd/edge-agent.sysusers)"
        ),
        (
            "sudo usermod -aG {p0} {user}, puis déconnectez-vous et reconnectez-vous "
            "(l'utilisateur du service les reçoit de systemd/edge-agent.sysusers)"
        ),
    ),
    "system.simulated_concentrator_no_device_node": (
        "simulated concentrator ({url}): no device node needed",
        "concentrateur simulé ({url}) : aucun périphérique nécessaire",
    ),
    "system.cannot_tell_device_from": (
        "cannot tell the device from {url}",
        "impossible de déduire le périphérique de {url}",
    ),
    "system.use_spi_dev_spidevb_c": (
        "use spi:///dev/spidevB.C",
        "utilisez spi:///dev/spidevB.C",
    ),
    "system.plug_corecell_usb_board_check": (
        (
            "plug in the Corecell USB board and check 'dmesg | grep ttyACM'; a stable name is "
            "under /dev/serial/by-id/"
        ),
        (
            "branchez la carte Corecell USB et vérifiez 'dmesg | grep ttyACM' ; un nom stable se "
            "trouve sous /dev/serial/by-id/"
        ),
    ),
    "system.not_used_with_reset_done": (
        "not used with {scheme}:// (reset is done by the board itself)",
        "inutile avec {scheme}:// (la carte fait elle-même le reset)",
    ),
    "system.board_reset_power_lines_cannot": (
        (
            "{problem}: board {board}'s reset/power lines cannot be driven (there is no "
            "/sys/class/gpio fallback)"
        ),
        (
            "{problem} : les lignes de reset et d'alimentation de la carte {board} ne peuvent "
            "pas être pilotées (pas de repli sur /sys/class/gpio)"
        ),
    ),
    "system.no_dev_gpiochip_device": (
        "no /dev/gpiochip* device",
        "aucun périphérique /dev/gpiochip*",
    ),
    "system.this_kernel_has_no_gpio": (
        "this kernel has no GPIO character device: use a Raspberry Pi OS kernel ≥ 5.10",
        (
            "ce noyau n'a pas de périphérique GPIO en mode caractère : utilisez un noyau "
            "Raspberry Pi OS ≥ 5.10"
        ),
    ),
    "system.concentrator_firmware_dir_not_set": (
        "[concentrator] firmware_dir is not set",
        "[concentrator] firmware_dir n'est pas renseigné",
    ),
    "system.system_time_never_set": (
        "system time is {p0}: never set",
        "l'heure système est {p0} : jamais réglée",
    ),
    "system.enable_ntp_sudo_timedatectl_set": (
        "enable NTP: sudo timedatectl set-ntp true (needs network), or fit an RTC",
        (
            "activez NTP : sudo timedatectl set-ntp true (réseau nécessaire), ou ajoutez une "
            "horloge RTC"
        ),
    ),
    "system.does_not_exist_no_spi": (
        "{path} does not exist: no SPI device at all",
        "{path} n'existe pas : aucun périphérique SPI",
    ),
    "system.device_denied_group": (
        "{denied} (group {group})",
        "{denied} (groupe {group})",
    ),
    "system.device_os_error": (
        "{path}: {strerror}",
        "{path} : {strerror}",
    ),
    "system.check_dmesg_errors": (
        "check dmesg for {dmesg_topic} errors",
        "cherchez les erreurs {dmesg_topic} dans dmesg",
    ),
    "system.simulated_concentrator_no_firmware_images": (
        "simulated concentrator: no firmware images needed",
        "concentrateur simulé : aucune image de firmware nécessaire",
    ),
    "system.timedatectl_ntp_not_synchronised": (
        "timedatectl: NTP not synchronised",
        "timedatectl : NTP non synchronisé",
    ),
    "system.does_not_exist_present": (
        "{path} does not exist (present: {p1})",
        "{path} n'existe pas (présents : {p1})",
    ),
    "system.set_concentrator_url_one_spi": (
        (
            "set [concentrator] url to one of spi://{p0} …, or enable the chip select you need "
            "with a dtoverlay (e.g. dtoverlay=spi0-1cs)"
        ),
        (
            "mettez dans [concentrator] url l'un de spi://{p0} …, ou activez le chip select "
            "voulu par un dtoverlay (par exemple dtoverlay=spi0-1cs)"
        ),
    ),
    "system.timedatectl_ntp_synchronised": (
        "timedatectl: NTP synchronised",
        "timedatectl : NTP synchronisé",
    ),
    "udp.answered_pull_data_ms": (
        "{host}:{port} answered PULL_DATA in {elapsed_ms} ms",
        "{host}:{port} a répondu au PULL_DATA en {elapsed_ms} ms",
    ),
    "udp.check_server_url": (
        "check the server URL",
        "vérifiez l'URL du serveur",
    ),
    "udp.no_pull_ack_from_within": (
        "no PULL_ACK from {host}:{port} within {timeout_s} s",
        "pas de PULL_ACK de {host}:{port} en {timeout_s} s",
    ),
    "udp.check_server_runs_listens_that": (
        (
            "check the server runs and listens on that UDP port, that no firewall drops UDP, and "
            "that the server knows this gateway's EUI"
        ),
        (
            "vérifiez que le serveur tourne et écoute sur ce port UDP, qu'aucun pare-feu ne "
            "bloque l'UDP, et que le serveur connaît l'EUI de cette passerelle"
        ),
    ),
    "udp.answered_something_not_gwmp": (
        "{host}:{port} answered something not GWMP: {exc}",
        "{host}:{port} a répondu autre chose que du GWMP : {exc}",
    ),
    "udp.check_port": (
        "check the port",
        "vérifiez le port",
    ),
    "udp.os_error": (
        "{host}:{port}: {reason}",
        "{host}:{port} : {reason}",
    ),
    "udp.check_server_port": (
        "check the server and the port",
        "vérifiez le serveur et le port",
    ),
    "broker.issue_new_certificate_this_gateway": (
        (
            "issue a new certificate for this gateway from your CA and install it at {tls_cert} "
            "(key at {tls_key}), then 'systemctl restart edge-agent'"
        ),
        (
            "faites émettre par votre autorité de certification un nouveau certificat pour cette "
            "passerelle et installez-le dans {tls_cert} (clé dans {tls_key}), puis 'systemctl "
            "restart edge-agent'"
        ),
    ),
    "broker.broker_acl_must_let_this": (
        (
            "the broker's ACL must let this gateway read and write {p0}/# (see the Mosquitto ACL "
            "in docs/operator-guide.md)"
        ),
        (
            "l'ACL du broker doit autoriser cette passerelle à lire et écrire {p0}/# (voir l'ACL "
            "Mosquitto dans docs/fr/operator-guide.md)"
        ),
    ),
    "broker.check_broker_tls_listener_settings": (
        "check the broker's TLS listener settings and [mqtt] ca_cert/tls_cert/tls_key",
        "vérifiez la configuration du port TLS du broker et [mqtt] ca_cert/tls_cert/tls_key",
    ),
    "broker.broker_refused_our_client_certificate": (
        "the broker refused our client certificate as expired: renew it (client-cert)",
        (
            "le broker a refusé notre certificat client car il a expiré : renouvelez-le "
            "(client-cert)"
        ),
    ),
    "broker.broker_wants_client_certificate_set": (
        "the broker wants a client certificate: set [mqtt] tls_cert and tls_key",
        "le broker exige un certificat client : renseignez [mqtt] tls_cert et tls_key",
    ),
    "radio.concentrator_never_opened_while_daemon": (
        (
            "the concentrator is never opened while a daemon holds it: run diag again when the "
            "daemon answers, or stop it first (systemctl stop edge-agent) to test the chip from "
            "here"
        ),
        (
            "le concentrateur n'est jamais ouvert tant qu'un démon le tient : relancez diag "
            "quand le démon répond, ou arrêtez-le d'abord (systemctl stop edge-agent) pour "
            "tester la puce d'ici"
        ),
    ),
    "radio.see_journalctl_u_edge_agent": (
        "see 'journalctl -u edge-agent' for the bring-up error",
        "voir 'journalctl -u edge-agent' pour l'erreur de démarrage",
    ),
    "radio.daemon_restarts_concentrator_by_itself": (
        (
            "the daemon restarts the concentrator by itself (docs/technician-guide.md, radio "
            "faults); if it stays down, check power, the cable and 'journalctl -u edge-agent'"
        ),
        (
            "le démon relance le concentrateur de lui-même (docs/fr/technician-guide.md, pannes "
            "radio) ; s'il reste arrêté, vérifiez l'alimentation, le câble et 'journalctl -u "
            "edge-agent'"
        ),
    ),
    "radio.lower_antenna_gain_dbi_only": (
        "lower the antenna_gain_dbi only if it is wrong; otherwise carry the lower entries",
        ("ne baissez antenna_gain_dbi que s'il est faux ; sinon ajoutez les entrées plus basses"),
    ),
    "spool.file_was_damaged_written_by": (
        (
            "the file was damaged or written by something else: find out what (the spool "
            "directory should be the agent's alone), look at them with sqlite3 (SELECT seq, "
            "backend, reason FROM quarantine), then 'edge-agent spool purge --yes' empties the "
            "spool and the quarantine (see 'Hostile or damaged spool files' in docs/spool.md)"
        ),
        (
            "le fichier a été endommagé ou écrit par autre chose : trouvez quoi (le répertoire "
            "du spool doit être réservé à l'agent), examinez les lignes avec sqlite3 (SELECT "
            "seq, backend, reason FROM quarantine), puis 'edge-agent spool purge --yes' vide le "
            "spool et la quarantaine (voir 'Hostile or damaged spool files' dans docs/spool.md)"
        ),
    ),
    "system.spi_disabled_run_raspi_config": (
        (
            "SPI is disabled: run raspi-config → Interface Options → SPI, then reboot (or add "
            "'dtparam=spi=on' to /boot/firmware/config.txt and reboot)"
        ),
        (
            "le SPI est désactivé : lancez raspi-config → Interface Options → SPI, puis "
            "redémarrez (ou ajoutez 'dtparam=spi=on' dans /boot/firmware/config.txt et "
            "redémarrez)"
        ),
    ),
    "system.import_images_from_sx1302_hal": (
        (
            "import the images from an sx1302_hal checkout with 'edge-agent firmware import', "
            "then set [concentrator] firmware_dir"
        ),
        (
            "importez les images depuis une copie de sx1302_hal avec 'edge-agent firmware "
            "import', puis renseignez [concentrator] firmware_dir"
        ),
    ),
    "system.enable_ntp_with_sudo_timedatectl": (
        (
            "enable NTP with 'sudo timedatectl set-ntp true' and check 'timedatectl "
            "timesync-status'; uplink times (gw_time) are wrong until the clock is synchronised"
        ),
        (
            "activez NTP avec 'sudo timedatectl set-ntp true' et vérifiez 'timedatectl "
            "timesync-status' ; l'horodatage des trames montantes (gw_time) est faux tant que "
            "l'horloge n'est pas synchronisée"
        ),
    ),
    "system.free_space_journalctl_vacuum_size": (
        "free space (journalctl --vacuum-size=50M, apt-get clean) or move the spool",
        ("libérez de la place (journalctl --vacuum-size=50M, apt-get clean) ou déplacez le spool"),
    ),
    # texts the checks assemble from variables (not literal arguments of passed/warned/failed)
    "system.config_facts": (
        "{config_path}: gateway {gw_id}, {region}, concentrator {url}, {backends}",
        "{config_path} : passerelle {gw_id}, {region}, concentrateur {url}, {backends}",
    ),
    "system.gateway_from_chip_eui": ("from chip EUI", "EUI lue sur la puce"),
    "system.clock_no_timedatectl": (
        "timedatectl did not answer (no systemd: container?); {detail}",
        "timedatectl n'a pas répondu (pas de systemd : conteneur ?) ; {detail}",
    ),
    "system.kernel_clock_synchronised": (
        "kernel clock synchronised, max error {maxerror} µs",
        "horloge du noyau synchronisée, erreur max {maxerror} µs",
    ),
    "system.kernel_clock_unsynchronised": (
        "kernel clock unsynchronised, max error {maxerror} µs",
        "horloge du noyau non synchronisée, erreur max {maxerror} µs",
    ),
    "system.disk_free": (
        "{target}: {free_mb} MB free of {total_mb} MB ({free_pct} %)",
        "{target} : {free_mb} Mo libres sur {total_mb} Mo ({free_pct} %)",
    ),
    "spool.stats": (
        (
            "{path} ({kib} KiB) ok; {pending} pending ({bytes} bytes), oldest {oldest_min} min; "
            "delivered {delivered}, dropped {dropped}"
        ),
        (
            "{path} ({kib} Kio) correct ; {pending} en attente ({bytes} octets), la plus ancienne "
            "depuis {oldest_min} min ; {delivered} remises, {dropped} abandonnées"
        ),
    ),
    "broker.connected_anonymous": ("connected (anonymous)", "connecté (anonyme)"),
    "broker.connected_as_user": ("connected as {user}", "connecté en tant que {user}"),
    "radio.gps_facts": (
        "{sentences} sentences, fix {fix}, {satellites} satellites, PPS {pps}",
        "{sentences} trames NMEA, fix {fix}, {satellites} satellites, PPS {pps}",
    ),
    "radio.tx_gain_table": (
        "radio A TX gain table ({source}): {entries}",
        "table de gain TX de la radio A ({source}) : {entries}",
    ),
    "radio.no_tx_gain_table": (
        "radio A has no TX gain table: no downlink can be sent",
        "la radio A n'a pas de table de gain TX : aucune trame descendante ne peut être émise",
    ),
    "radio.tx_power_gap": ("TX power: {gap}", "puissance d'émission : {gap}"),
    # parts of texts: the values the templates above put in their {source}, {problem}, …
    "radio.radio_states": (
        "radio A: {a}, radio B: {b}",
        "radio A : {a}, radio B : {b}",
    ),
    "radio.source_daemon": ("daemon", "démon"),
    "system.config_backend": ("backend {name} {server}", "backend {name} {server}"),
    "radio.source_from_running_daemon": (
        " (from the running daemon)",
        " (selon le démon en service)",
    ),
    "radio.source_stts751": (
        "STTS751 at 0x{address} on {bus_path}",
        "STTS751 à l'adresse 0x{address} sur {bus_path}",
    ),
    "radio.source_stts751_after_silent": (
        "STTS751 at 0x{address} on {bus_path}, no answer at {addresses}",
        "STTS751 à l'adresse 0x{address} sur {bus_path}, pas de réponse en {addresses}",
    ),
    "radio.no_stts751": (
        "no STTS751 at {addresses} on {bus_path}",
        "aucun STTS751 en {addresses} sur {bus_path}",
    ),
    "radio.gain_source_board": ("board {board}, {file}", "carte {board}, {file}"),
    "radio.gain_source_region_preset": (
        "region {region} preset, Semtech Corecell reference",
        "préréglage de la région {region}, référence Semtech Corecell",
    ),
    "radio.radio_power_gap": ("radio {radio}: {gap}", "radio {radio} : {gap}"),
    "radio.power_gap": (
        (
            "{region} sub-band {band} ({low}-{high} MHz) allows {eirp} dBm EIRP: with {gain} dBi "
            "antenna gain the radio may emit at most {conducted} dBm, below the TX gain table's "
            "lowest entry ({lowest} dBm); add entries at or below {top} dBm (for example "
            "{range} dBm) to tx_gain_lut"
        ),
        (
            "{region}, sous-bande {band} ({low}-{high} MHz) : {eirp} dBm PIRE autorisés ; avec "
            "un gain d'antenne de {gain} dBi la radio peut émettre au plus {conducted} dBm, "
            "sous l'entrée la plus basse de la table de gain TX ({lowest} dBm) : ajoutez à "
            "tx_gain_lut des entrées à {top} dBm ou moins (par exemple {range} dBm)"
        ),
    ),
    "radio.rx_facts": (
        (
            "{total} packets in {seconds} s; per channel {channels}; per SF {sfs}; "
            "RSSI {rssi_min}..{rssi_max} dBm, SNR {snr_min}..{snr_max} dB; "
            "CRC ok {crc_ok}, bad {crc_bad}"
        ),
        (
            "{total} paquets en {seconds} s ; par canal {channels} ; par SF {sfs} ; "
            "RSSI {rssi_min}..{rssi_max} dBm, SNR {snr_min}..{snr_max} dB ; "
            "CRC bons {crc_ok}, mauvais {crc_bad}"
        ),
    ),
    "radio.rx_facts_daemon": (
        (
            "{total} packets in {seconds} s; per channel {channels}; per SF {sfs}; "
            "RSSI {rssi_min}..{rssi_max} dBm, SNR {snr_min}..{snr_max} dB; "
            "CRC ok {crc_ok}, bad {crc_bad} (from the running daemon)"
        ),
        (
            "{total} paquets en {seconds} s ; par canal {channels} ; par SF {sfs} ; "
            "RSSI {rssi_min}..{rssi_max} dBm, SNR {snr_min}..{snr_max} dB ; "
            "CRC bons {crc_ok}, mauvais {crc_bad} (selon le démon en service)"
        ),
    ),
    "radio.radio_down": (
        "daemon reports radio {state}{when}: {error} ({restarts} restarts, {starts} starts)",
        (
            "le démon signale la radio {state}{when} : {error} ({restarts} redémarrages, "
            "{starts} démarrages)"
        ),
    ),
    "radio.radio_down_since": (" since {time}", " depuis le {time}"),
    "radio.no_detail": ("no detail", "aucun détail"),
    "radio.busy_holds_device": ("it holds {device}", "il occupe {device}"),
    "radio.status_busy": (
        "a process holds {path} but did not answer within {timeout} s (busy)",
        "un processus tient {path} mais n'a pas répondu en {timeout} s (occupé)",
    ),
    "radio.device_busy": (
        (
            "{path} is in use by another process (a running edge-agent, diag or packet "
            "forwarder holds its lock)"
        ),
        (
            "{path} est utilisé par un autre processus (un edge-agent, un diag ou un packet "
            "forwarder en service tient son verrou)"
        ),
    ),
    "system.gpiod_missing": (
        "the gpiod Python package is not installed",
        "le paquet Python gpiod n'est pas installé",
    ),
    "system.gpiod_v1": (
        "gpiod {version} is the libgpiod v1 API (v2 needed)",
        "gpiod {version} est l'API libgpiod v1 (la v2 est nécessaire)",
    ),
    "system.gpiod_install": (
        (
            "install the libgpiod v2 Python bindings into the agent's environment: "
            "sudo /opt/edge-agent/bin/pip install 'gpiod>=2.1' (armv7 builds it: apt install gcc "
            "python3-dev first), or apt install python3-libgpiod on a release that ships version 2 "
            "(Debian 13, Raspberry Pi OS based on it) with a venv made --system-site-packages"
        ),
        (
            "installez les bindings Python libgpiod v2 dans l'environnement de l'agent : "
            "sudo /opt/edge-agent/bin/pip install 'gpiod>=2.1' (sur armv7 il est compilé : "
            "apt install gcc python3-dev d'abord), ou apt install python3-libgpiod sur une "
            "version qui fournit la v2 (Debian 13, Raspberry Pi OS qui en dérive) avec un venv "
            "créé avec --system-site-packages"
        ),
    ),
    "system.firmware_missing": ("{name} missing", "{name} absent"),
    "system.firmware_unreadable": (
        "{name} unreadable ({strerror})",
        "{name} illisible ({strerror})",
    ),
    "system.firmware_wrong_size": (
        "{name} is {size} bytes, expected {expected}",
        "{name} fait {size} octets au lieu de {expected}",
    ),
    "system.no_extra_groups": ("no extra groups", "aucun groupe supplémentaire"),
    "system.group_for_device": ("{group} (for {path})", "{group} (pour {path})"),
    "system.config_refused": (
        "{detail} (the daemon refuses to start with it)",
        "{detail} (le démon refuse de démarrer avec)",
    ),
    "system.file_owned_by_other": (
        "{role} {path}: owned by {owner}, not root or edge-agent: its owner controls the gateway",
        (
            "{role} {path} : appartient à {owner}, ni root ni edge-agent : son propriétaire "
            "contrôle la passerelle"
        ),
    ),
    "system.file_writable_by_everyone": (
        "{role} {path}: writable by everyone (mode {mode})",
        "{role} {path} : modifiable par tous (mode {mode})",
    ),
    "system.file_readable_by_everyone": (
        "{role} {path}: is readable by everyone (mode {mode})",
        "{role} {path} : lisible par tous (mode {mode})",
    ),
    "system.file_password_readable_by_everyone": (
        "{role} {path}: holds a password and is readable by everyone (mode {mode})",
        "{role} {path} : contient un mot de passe et est lisible par tous (mode {mode})",
    ),
    "system.file_writable_by_group": (
        "{role} {path}: writable by its group (mode {mode})",
        "{role} {path} : modifiable par son groupe (mode {mode})",
    ),
    "system.config_not_found": (
        "{path}: configuration file not found",
        "{path} : fichier de configuration introuvable",
    ),
    "system.config_cannot_read": (
        "{path}: cannot read: {exc}",
        "{path} : lecture impossible : {exc}",
    ),
    "system.config_too_large": (
        "{path}: larger than {size} bytes: not a config",
        "{path} : plus de {size} octets : ce n'est pas une configuration",
    ),
    "system.config_invalid_toml": ("{path}: invalid TOML: {exc}", "{path} : TOML invalide : {exc}"),
    "core.config_does_not_exist": ("{path} does not exist", "{path} n'existe pas"),
    "core.config_module_missing": (
        "the config module is not available: {exc}",
        "le module de configuration est indisponible : {exc}",
    ),
    "core.config_os_error": ("cannot read {path}: {error}", "impossible de lire {path} : {error}"),
    "broker.who_user": ("user {user}", "utilisateur {user}"),
    "broker.who_anonymous": ("anonymous access", "accès anonyme"),
    "broker.why_closed": ("connection closed", "connexion fermée"),
    "broker.why_timeout": ("timeout", "délai dépassé"),
    "spool.generic_facts": ("{path} ({kib} KiB) ok", "{path} ({kib} Kio) correct"),
    "spool.generic_rows": ("rows {tables}", "lignes {tables}"),
    "spool.generic_no_rows": ("rows none", "aucune ligne"),
    "spool.generic_oldest": ("oldest {age} min", "la plus ancienne depuis {age} min"),
    "spool.symlink": (
        (
            "spool {path} is a symbolic link (to {target}); the spool never follows links: "
            "replace it with the real file or point [spool] path at the real location"
        ),
        (
            "le spool {path} est un lien symbolique (vers {target}) ; le spool ne suit jamais "
            "les liens : remplacez-le par le vrai fichier ou faites pointer [spool] path vers "
            "le vrai emplacement"
        ),
    ),
    "spool.cannot_check": (
        "spool {path}: cannot check it: {exc}",
        "spool {path} : vérification impossible : {exc}",
    ),
    "spool.not_regular_file": (
        "spool {path} is not a regular file; remove it or change the path",
        "le spool {path} n'est pas un fichier ordinaire ; supprimez-le ou changez le chemin",
    ),
    "spool.cannot_read": (
        "spool {path}: cannot read: {exc}",
        "spool {path} : lecture impossible : {exc}",
    ),
    "spool.no_file": ("no spool file at {path}", "aucun fichier de spool à {path}"),
    "broker.timed_out": ("timed out", "délai dépassé"),
    "system.clock_no_timedatectl_reason": (
        "timedatectl did not answer (no systemd: container?)",
        "timedatectl n'a pas répondu (pas de systemd : conteneur ?)",
    ),
    "system.libc_not_found": ("libc not found", "libc introuvable"),
    "system.adjtimex_failed": ("adjtimex failed: {error}", "échec d'adjtimex : {error}"),
    "system.adjtimex_unavailable": (
        "adjtimex unavailable: {exc}",
        "adjtimex indisponible : {exc}",
    ),
    # the configuration loader's errors (ConfigError: "KEY: message"), in the config check's
    # detail when the file does not validate; {allowed} and {got} are phrases (PHRASES below)
    "config.must_be_got": (
        "{key}: must be {allowed}, got {got}",
        "{key} : doit être {allowed}, trouvé {got}",
    ),
    "config.must_be": ("{key}: must be {allowed}", "{key} : doit être {allowed}"),
    "config.must_be_got_values": (
        "{key}: must be {allowed}, got {n} values",
        "{key} : doit être {allowed}, trouvé {n} valeurs",
    ),
    "config.must_list_got": (
        "{key}: must list {allowed}, got {n}",
        "{key} : doit contenir {allowed}, trouvé {n}",
    ),
    "config.length_at_most": (
        "{key}: must be at most {max_len} characters long, got {n}",
        "{key} : doit faire au plus {max_len} caractères, trouvé {n}",
    ),
    "config.length_between": (
        "{key}: must be {min_len} to {max_len} characters long, got {n}",
        "{key} : doit faire de {min_len} à {max_len} caractères, trouvé {n}",
    ),
    "config.control_characters": (
        "{key}: must not contain control characters, got {value}",
        "{key} : ne doit pas contenir de caractères de contrôle, trouvé {value}",
    ),
    "config.unknown_key": (
        "{key}: unknown key (allowed: {keys})",
        "{key} : clé inconnue (clés possibles : {keys})",
    ),
    "config.alias_set_only_one": (
        "{key}: is another name of {other}; set only one",
        "{key} : est un autre nom de {other} ; n'en définissez qu'une",
    ),
    "config.required": ("{key}: is required", "{key} : est obligatoire"),
    "config.required_allowed": (
        "{key}: is required ({allowed})",
        "{key} : est obligatoire ({allowed})",
    ),
    "config.unknown_scheme": (
        "{key}: unknown scheme {scheme} in {url}; expected one of {known}",
        "{key} : schéma {scheme} inconnu dans {url} ; attendu l'un de {known}",
    ),
    "config.no_chirpstack_backend": (
        "{key}: names no chirpstack backend ({known})",
        "{key} : ne désigne aucun backend chirpstack ({known})",
    ),
    "config.no_chirpstack_backend_none": (
        "{key}: names no chirpstack backend (none)",
        "{key} : ne désigne aucun backend chirpstack (il n'y en a aucun)",
    ),
    "config.needs_board": (
        "{key}: needs [concentrator] board",
        "{key} : nécessite la clé 'board' de [concentrator]",
    ),
    "config.unknown_board": (
        "{key}: unknown board {board}; known boards: {boards}",
        "{key} : carte {board} inconnue ; cartes connues : {boards}",
    ),
    "config.unknown_board_settings": (
        "{key}: unknown board setting(s) {settings}; allowed: {keys}",
        "{key} : réglage(s) de carte inconnu(s) {settings} ; réglages possibles : {keys}",
    ),
    "config.rssi_tcomp_coefficients": (
        "{key}: rssi_tcomp takes 5 coefficients (a, b, c, d, e)",
        "{key} : rssi_tcomp prend 5 coefficients (a, b, c, d, e)",
    ),
    "config.tx_gain_table_entries": (
        "{key}: a TX gain table has 1..{max_entries} entries, got {n}",
        "{key} : une table de gain TX a de 1 à {max_entries} entrées, trouvé {n}",
    ),
    "config.tx_gain_field_range": (
        "{key}: {field} must be 0..{high}, got {n}",
        "{key} : {field} doit être entre 0 et {high}, trouvé {n}",
    ),
    "config.rf_power_must_rise": (
        "{key}: rf_power must rise from entry to entry, got {powers}",
        "{key} : rf_power doit augmenter d'une entrée à la suivante, trouvé {powers}",
    ),
    "config.malformed_url": (
        "{key}: malformed URL {url}: {exc}",
        "{key} : URL mal formée {url} : {exc}",
    ),
    "config.url_credentials": (
        (
            "{key}: must not contain credentials (user:password@): put them in the username "
            "and password keys"
        ),
        (
            "{key} : ne doit pas contenir d'identifiants (user:password@) : mettez-les dans les "
            "clés username et password"
        ),
    ),
    "config.url_port": (
        "{key}: port must be 1..65535, got {url}",
        "{key} : le port doit être entre 1 et 65535, trouvé {url}",
    ),
    "config.host_name_length": (
        "{key}: host name must be at most {n} characters",
        "{key} : le nom d'hôte doit faire au plus {n} caractères",
    ),
    "config.prefix_not_hex_bits": (
        '{key}: prefix {prefix} is not HEX/BITS (like "{example}")',
        '{key} : le préfixe {prefix} n\'est pas de la forme HEX/BITS (par exemple "{example}")',
    ),
    "config.prefix_digits_bits": (
        '{key}: prefix {prefix} needs {digits} hex digits and 0..{bits} bits (like "{example}")',
        (
            "{key} : le préfixe {prefix} demande {digits} chiffres hexadécimaux et de 0 à {bits} "
            'bits (par exemple "{example}")'
        ),
    ),
    "config.must_be_at_least_key": (
        "{key}: must be at least {other}",
        "{key} : doit être au moins égal à {other}",
    ),
    "config.needs_key": ("{key}: needs {other}", "{key} : nécessite {other}"),
    "config.keys_go_together": (
        "{key}: {first} and {second} go together",
        "{key} : {first} et {second} vont ensemble",
    ),
    "config.set_one_not_both": (
        "{key}: set {other} or this key, not both",
        "{key} : définissez {other} ou cette clé, pas les deux",
    ),
    "config.needs_mqtts_server": (
        "{key}: needs an mqtts:// server, got {server}",
        "{key} : nécessite un serveur mqtts://, trouvé {server}",
    ),
    "config.file_not_found": (
        "{key}: file not found: {path}",
        "{key} : fichier introuvable : {path}",
    ),
    "config.backend_name_used": (
        "{key}: {name} is already used; names must be unique",
        "{key} : {name} est déjà pris ; les noms doivent être uniques",
    ),
    "config.backend_name_used_mqtt": (
        "{key}: {name} is already used (the [mqtt] table's backend); names must be unique",
        (
            "{key} : {name} est déjà pris (le backend de la table [mqtt]) ; les noms doivent "
            "être uniques"
        ),
    ),
    "config.unknown_unit": (
        "{key}: unknown unit {unit}; must be {allowed}",
        "{key} : unité {unit} inconnue ; doit être {allowed}",
    ),
}

#: the phrases a configuration error puts in its ``{allowed}`` and ``{got}`` placeholders
#: (edge_agent.config_schema: type names, ranges, choices, lengths, and each key's ``what``);
#: used only for those values (``edge_agent.diag.i18n.PHRASE_PARAMS``). Config values, key
#: names and Python type names (``int``, ``float``) are data and stay as they are.
PHRASES: dict[str, tuple[str, str]] = {
    "config.a_table": ("a table", "une table"),
    "config.an_array": ("an array", "un tableau"),
    "config.an_empty_array": ("an empty array", "un tableau vide"),
    "config.a_string": ("a string", "une chaîne"),
    "config.a_boolean": ("a boolean", "un booléen"),
    "config.an_integer": ("an integer", "un entier"),
    "config.a_number": ("a number", "un nombre"),
    "config.a_finite_number": ("a finite number", "un nombre fini"),
    "config.true_or_false": ("true or false", "true ou false"),
    "config.between": ("between {low} and {high}", "entre {low} et {high}"),
    "config.greater_than": ("greater than {low}", "supérieur à {low}"),
    "config.at_least": ("at least {low}", "au moins {low}"),
    "config.at_most": ("at most {high}", "au plus {high}"),
    "config.greater_than_at_most": (
        "greater than {low} and at most {high}",
        "supérieur à {low} et au plus {high}",
    ),
    "config.at_least_at_most": (
        "at least {low} and at most {high}",
        "au moins {low} et au plus {high}",
    ),
    "config.one_of": ("one of {choices}", "l'une des valeurs {choices}"),
    "config.numbers_or": ("{choices} or {last}", "{choices} ou {last}"),
    "config.items": ("{n} items", "{n} éléments"),
    "config.items_between": ("{low} to {high} items", "de {low} à {high} éléments"),
    "config.items_at_most": ("at most {high} items", "au plus {high} éléments"),
    "config.prefixes_at_most": ("at most {high} prefixes", "au plus {high} préfixes"),
    "config.array_of_values": ("an array of {n} values", "un tableau de {n} valeurs"),
    "config.hexadecimal_characters": (
        "{n} hexadecimal characters",
        "{n} caractères hexadécimaux",
    ),
    "config.concentrator_url": (
        "a URL such as {sim}, {spi} or {usb}",
        "une URL comme {sim}, {spi} ou {usb}",
    ),
    "config.argv": (
        "a non-empty array of strings (argv, no shell)",
        "un tableau non vide de chaînes (argv, sans shell)",
    ),
    "config.file_path": (
        "a non-empty string (a file path)",
        "une chaîne non vide (un chemin de fichier)",
    ),
    "config.spool_size": (
        'an integer {low}..{high} (bytes) or a string like "{example}" ({units})',
        'un entier de {low} à {high} (octets) ou une chaîne comme "{example}" ({units})',
    ),
    "config.commit_interval": (
        "an integer {low}..{high} (milliseconds; 0 commits every uplink at once)",
        "un entier de {low} à {high} (millisecondes ; 0 valide chaque uplink aussitôt)",
    ),
    "config.topic_prefix": (
        "a topic prefix that does not start or end with '/' nor contain '+' or '#'",
        "un préfixe de topic qui ne commence ni ne finit par '/' et ne contient ni '+' ni '#'",
    ),
    "config.protobuf_or_json": ('"protobuf" or "json"', '"protobuf" ou "json"'),
    "config.backend_name": (
        "1..64 of A-Z a-z 0-9 _ . - (not first: _ . -)",
        "1 à 64 caractères parmi A-Z a-z 0-9 _ . - (pas en premier : _ . -)",
    ),
    "config.rssi_tcomp": ("5 numbers (a, b, c, d, e)", "5 nombres (a, b, c, d, e)"),
    "config.exactly_chains": ("exactly {n} chains", "exactement {n} chaînes"),
    "config.gps_tty": (
        "a device path, {gpsd} or {sim}",
        "un chemin de périphérique, {gpsd} ou {sim}",
    ),
    "config.mqtt_server": (
        "{tcp}, {mqtts} or {ws} (schemes: {schemes})",
        "{tcp}, {mqtts} ou {ws} (schémas : {schemes})",
    ),
    "config.net_id": (
        'a 24-bit NetID: 6 hex digits like "{example}" or 0..{high}',
        'un NetID de 24 bits : 6 chiffres hexadécimaux comme "{example}" ou de 0 à {high}',
    ),
    "config.backend_tables": (
        "[[backend]] tables (an array of tables)",
        "des tables [[backend]] (un tableau de tables)",
    ),
}
